# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: cdivision=False, embedsignature=False, binding=True, infer_types=False
"""The compiled order book: :class:`tradesim_nb.book.OrderBook` in C.

Same API and results as the pure-Python twin (:mod:`tradesim_nb._book_py`), value for value:
the same keys (``round(price * price_scale)``, bids by tick and asks by the negated tick), the
same validation and messages, the same rule in :meth:`OrderBook.remove_crossed`, sums taken in
the same order with the arithmetic of Python's ``sum``, and the same walk.

Each side is a sorted array of 64-bit keys, worst first (best level last), beside an array of
slot numbers into a slab of levels ``(price, size, price_str, size_str)``; an insert or delete
moves the keys and slot numbers between it and the touch, 12 bytes a level. Numbers are parsed
from the venue's ASCII strings in C (an exact decimal fast path, else Python's own ``float``),
validated, and keyed before anything changes: a refused snapshot or delta leaves the book as
it was.
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.number cimport PyNumber_Float, PyNumber_Index
from libc.math cimport ceil, floor
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memcmp, memcpy, memmove

import math

import numpy as np
import orjson

from ._book_py import (
    DEFAULT_MAX_LEVELS,
    ArraysApplied,
    BookInputError,
    KEY_LIMIT,
    Fill,
    check_refused,
    cap_error,
    check_max_levels,
    check_price_scale,
    level_error,
)
from .events import BookSnapshot as _BookSnapshot


cdef extern from "Python.h":
    ctypedef struct PyObject
    int PyList_CheckExact(PyObject*)
    int PyList_Check(PyObject*)
    int PyTuple_CheckExact(PyObject*)
    Py_ssize_t PyList_GET_SIZE(PyObject*)
    PyObject* PyList_GET_ITEM(PyObject*, Py_ssize_t)
    Py_ssize_t PyTuple_GET_SIZE(PyObject*)
    PyObject* PyTuple_GET_ITEM(PyObject*, Py_ssize_t)
    int PyUnicode_CheckExact(PyObject*)
    int PyUnicode_Check(PyObject*)
    int PyUnicode_IS_COMPACT_ASCII(PyObject*)
    void* PyUnicode_DATA(PyObject*)
    Py_ssize_t PyUnicode_GET_LENGTH(PyObject*)
    object PyUnicode_New(Py_ssize_t, unsigned int)
    object PyUnicode_DecodeUTF8(const char*, Py_ssize_t, const char*)
    void _incref "Py_INCREF"(PyObject*)
    void _xdecref "Py_XDECREF"(PyObject*)
    double PyFloat_AS_DOUBLE(object)
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    int PyLong_CheckExact(object)
    object PyTuple_New(Py_ssize_t)
    object PyList_New(Py_ssize_t)
    void PyTuple_SET_ITEM(object, Py_ssize_t, PyObject*)
    void PyList_SET_ITEM(object, Py_ssize_t, PyObject*)
    object PyFloat_FromDouble(double)
    object PyBytes_FromStringAndSize(const char*, Py_ssize_t)
    char* PyBytes_AS_STRING(object)
    Py_ssize_t PyBytes_GET_SIZE(object)

cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>
    /* Python's sum() of a list of floats (start 0): a plain running sum before 3.12, the
       Neumaier-compensated one since (CPython's builtin_sum_impl). */
    typedef struct { double f; double c; } ts_sum;
    static inline void ts_sum_init(ts_sum *s) { s->f = 0.0; s->c = 0.0; }
    static inline void ts_sum_add(ts_sum *s, double x) {
    #if PY_VERSION_HEX >= 0x030C0000
        double t = s->f + x;
        if (fabs(s->f) >= fabs(x)) s->c += (s->f - t) + x; else s->c += (x - t) + s->f;
        s->f = t;
    #else
        s->f += x;
    #endif
    }
    static inline double ts_sum_get(const ts_sum *s) {
    #if PY_VERSION_HEX >= 0x030C0000
        if (s->c != 0.0 && isfinite(s->c)) return s->f + s->c;
    #endif
        return s->f;
    }
    /* [-]digits[.digits] -> double, exactly rounded, or 0 to let Python's float() decide.
       At most 19 digits (no overflow of the mantissa), a mantissa <= 2**53 and at most 22
       decimals: then m and 10**d are exact doubles and one IEEE division rounds correctly
       (Clinger's fast path). */
    static const double ts_pow10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    static inline int ts_parse_decimal(const char *c, Py_ssize_t n, double *out) {
        const char *p = c, *end = c + n, *s;
        uint64_t m = 0;
        Py_ssize_t nint, nfrac = 0;
        int neg = 0;
        double v;
        if (p < end && *p == '-') { neg = 1; p++; }
        s = p;
        while (p < end && (unsigned char)(*p - '0') < 10) { m = m * 10 + (uint64_t)(*p - '0'); p++; }
        nint = p - s;
        if (p < end && *p == '.') {
            p++;
            s = p;
            while (p < end && (unsigned char)(*p - '0') < 10) { m = m * 10 + (uint64_t)(*p - '0'); p++; }
            nfrac = p - s;
        }
        if (p != end || nint + nfrac == 0 || nint + nfrac > 19 || nfrac > 22
                || m > 9007199254740992ULL)
            return 0;
        v = (double)m;
        if (nfrac) v = v / ts_pow10[nfrac];
        *out = neg ? -v : v;
        return 1;
    }
    /* round half to even, as Python's round(): exact for 0 <= t < 2**62 (t >= 2**52 is an
       integer already) without a libm call */
    static inline int64_t ts_round_key(double t) {
        const double two52 = 4503599627370496.0;
        return (int64_t)(t < two52 ? (t + two52) - two52 : t);
    }
    """
    ctypedef struct ts_sum:
        double f
        double c
    void ts_sum_init(ts_sum*) noexcept nogil
    void ts_sum_add(ts_sum*, double) noexcept nogil
    double ts_sum_get(const ts_sum*) noexcept nogil
    bint ts_parse_decimal(const char*, Py_ssize_t, double*) noexcept nogil
    int64_t ts_round_key(double) noexcept nogil


# -- the level store -------------------------------------------------------------------------
cdef enum:
    LV_INLINE = 23  # a level's string read from a frame's bytes up to this long is kept inline

ctypedef struct Lv:
    double px
    double sz
    PyObject* ps   # owned; NULL while the price string is only held inline (Side.st)
    PyObject* ss   # owned; NULL while the size string is only held inline (Side.st)

# the strings of a level read straight from a frame: their bytes, no str objects (beside the
# slab, one record a slab slot, so that the slab the book walks stays 32 bytes a level)
ctypedef struct LvStr:
    unsigned char pn
    unsigned char sn
    char pb[LV_INLINE]
    char sb[LV_INLINE]

ctypedef struct Side:
    int64_t* keys     # ascending: worst first, best last
    int32_t* slot     # slab index of each key
    int64_t* keys2    # the other buffers of keys and slots: a merge writes them, then swaps
    int32_t* slot2
    Lv* lv            # the slab
    LvStr* st         # the slab's inline strings
    int32_t* free     # freed slab indices (a stack)
    Py_ssize_t n      # levels
    Py_ssize_t cap    # capacity of the four arrays
    Py_ssize_t hi     # slab indices handed out since the last refill
    Py_ssize_t nfree

# one input level, parsed: its owned strings, and the refs it displaced (released at the end)
ctypedef struct Parsed:
    int64_t key
    double px
    double sz
    PyObject* ps
    PyObject* ss
    PyObject* o1
    PyObject* o2
    const char* pc     # ps is NULL: the price's bytes in the frame (pc, pn), kept inline
    const char* sc
    Py_ssize_t pn
    Py_ssize_t sn

ctypedef struct KeyIdx:
    int64_t key
    Py_ssize_t i

cdef enum:
    STACK_LEVELS = 128  # input levels parsed into a buffer on the C stack (else the heap)
    BAND_RESUM = 1000   # uses of a tracked depth band between full re-sums
    MERGE_MIN = 16      # a delta side with more levels is merged, not applied level by level
    MIN_CAP = 16        # the smallest allocation of a side
    SHRINK_CAP = 4096   # a side's arrays above this, and 4x what a snapshot needs, are freed

cdef class RawLevels  # below: levels read in place from a frame's text


cdef double INF = float("inf")
cdef double NAN = float("nan")
cdef int64_t KL = KEY_LIMIT
cdef double KL_F = <double>KEY_LIMIT
cdef int64_t NO_BAND = KEY_LIMIT
cdef object _tuple_new = tuple.__new__


cdef inline void side_zero(Side* s) noexcept nogil:
    s.keys = NULL
    s.slot = NULL
    s.keys2 = NULL
    s.slot2 = NULL
    s.lv = NULL
    s.st = NULL
    s.free = NULL
    s.n = 0
    s.cap = 0
    s.hi = 0
    s.nfree = 0


cdef void side_free_arrays(Side* s) noexcept:
    PyMem_Free(s.keys)
    PyMem_Free(s.slot)
    PyMem_Free(s.keys2)
    PyMem_Free(s.slot2)
    PyMem_Free(s.lv)
    PyMem_Free(s.st)
    PyMem_Free(s.free)
    side_zero(s)


cdef void side_release(Side* s) noexcept:
    """Drop every level's strings (the side is empty afterwards, its arrays kept)."""
    cdef Py_ssize_t i
    cdef Py_ssize_t n = s.n
    cdef Lv* L
    s.n = 0
    s.hi = 0
    s.nfree = 0
    for i in range(n):
        L = &s.lv[s.slot[i]]
        _xdecref(L.ps)
        _xdecref(L.ss)
        L.ps = NULL
        L.ss = NULL


cdef void* grown(void* p, size_t size) except NULL:
    """``p`` reallocated to ``size`` bytes, else MemoryError (``p`` is then kept as it was)."""
    cdef void* q = PyMem_Realloc(p, size)
    if q == NULL:
        raise MemoryError()
    return q


cdef int side_reserve(Side* s, Py_ssize_t need) except -1:
    """Make room for ``need`` levels (the arrays grow, never shrink here)."""
    cdef Py_ssize_t cap
    if need <= s.cap:
        return 0
    cap = s.cap * 2
    if cap < need:
        cap = need
    if cap < MIN_CAP:
        cap = MIN_CAP
    s.keys = <int64_t*>grown(s.keys, cap * sizeof(int64_t))
    s.slot = <int32_t*>grown(s.slot, cap * sizeof(int32_t))
    s.keys2 = <int64_t*>grown(s.keys2, cap * sizeof(int64_t))
    s.slot2 = <int32_t*>grown(s.slot2, cap * sizeof(int32_t))
    s.lv = <Lv*>grown(s.lv, cap * sizeof(Lv))
    s.st = <LvStr*>grown(s.st, cap * sizeof(LvStr))
    s.free = <int32_t*>grown(s.free, cap * sizeof(int32_t))
    s.cap = cap
    return 0


cdef inline Py_ssize_t side_lower(const Side* s, int64_t k) noexcept nogil:
    """The first position whose key is >= ``k`` (``bisect_left``), without branches on the
    keys: the answer stays in ``[b, b + ln]`` while ``ln`` halves."""
    cdef const int64_t* b = s.keys
    cdef Py_ssize_t ln = s.n
    cdef Py_ssize_t half
    if ln == 0:
        return 0
    while ln > 1:
        half = ln >> 1
        b += (b[half - 1] < k) * half
        ln -= half
    return (b - s.keys) + (b[0] < k)


cdef inline Lv* side_at(const Side* s, Py_ssize_t pos) noexcept nogil:
    return &s.lv[s.slot[pos]]


cdef inline Lv* side_best(const Side* s, Py_ssize_t i) noexcept nogil:
    """The ``i``-th best level (0 = the touch)."""
    return &s.lv[s.slot[s.n - 1 - i]]


cdef inline double side_sum(const Side* s, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """``sum`` of the sizes at positions ``lo..hi-1``, taken best first (from ``hi - 1``)."""
    cdef ts_sum acc
    cdef Py_ssize_t p = hi - 1
    ts_sum_init(&acc)
    while p >= lo:
        ts_sum_add(&acc, s.lv[s.slot[p]].sz)
        p -= 1
    return ts_sum_get(&acc)


cdef double side_apply(Side* s, Parsed* e, Py_ssize_t m, int64_t lim, double tot) noexcept:
    """Apply parsed delta levels in order (room reserved); return the new in-band sum.

    Strings displaced from the store are parked in the parsed entries (``o1``, ``o2``) and
    the entries' own strings moved into the store are set to NULL: the caller releases what
    is left once the book is consistent again.
    """
    cdef Py_ssize_t i, pos
    cdef int64_t k
    cdef int32_t sl
    cdef Lv* L
    cdef Parsed* x
    for i in range(m):
        x = &e[i]
        k = x.key
        pos = side_lower(s, k)
        if pos < s.n and s.keys[pos] == k:
            L = &s.lv[s.slot[pos]]
            if x.sz == 0.0:
                if k >= lim:
                    tot -= L.sz
                x.o1 = L.ps
                x.o2 = L.ss
                L.ps = NULL
                L.ss = NULL
                s.free[s.nfree] = s.slot[pos]
                s.nfree += 1
                memmove(&s.keys[pos], &s.keys[pos + 1], (s.n - pos - 1) * sizeof(int64_t))
                memmove(&s.slot[pos], &s.slot[pos + 1], (s.n - pos - 1) * sizeof(int32_t))
                s.n -= 1
            else:
                if k >= lim:
                    tot += x.sz - L.sz
                x.o1 = L.ps
                x.o2 = L.ss
                lv_take(s, L, x)
        elif x.sz != 0.0:
            if s.nfree:
                s.nfree -= 1
                sl = s.free[s.nfree]
            else:
                sl = <int32_t>s.hi
                s.hi += 1
            memmove(&s.keys[pos + 1], &s.keys[pos], (s.n - pos) * sizeof(int64_t))
            memmove(&s.slot[pos + 1], &s.slot[pos], (s.n - pos) * sizeof(int32_t))
            s.keys[pos] = k
            s.slot[pos] = sl
            s.n += 1
            L = &s.lv[sl]
            lv_take(s, L, x)
            if k >= lim:
                tot += x.sz
    return tot


# -- parsing ---------------------------------------------------------------------------------
cdef inline bint fast_float(PyObject* o, double* out) noexcept:
    """An exact decimal ``[-]digits[.digits]`` of an ASCII str, correctly rounded; False to
    fall back on Python's ``float`` (anything else, more than 19 digits, a mantissa above
    2**53 or more than 22 decimals)."""
    if not (PyUnicode_CheckExact(o) and PyUnicode_IS_COMPACT_ASCII(o)):
        return False
    return ts_parse_decimal(<const char*>PyUnicode_DATA(o), PyUnicode_GET_LENGTH(o), out)


cdef double slow_float(PyObject* o, str side, Py_ssize_t i, object lv, str what) except? -1:
    try:
        f = PyNumber_Float(<object>o)
    except (TypeError, ValueError):
        raise level_error(side, i, lv, what, <object>o) from None
    return PyFloat_AS_DOUBLE(f)


@cython.boundscheck(True)  # lv[0], lv[1] on any sequence: Python's own indexing and errors
@cython.wraparound(True)
cdef int parse_one(PyObject* lvp, Py_ssize_t i, Parsed* x, str side, int64_t sign,
                   double scale) except -1:
    cdef PyObject* ps
    cdef PyObject* ss
    if PyList_CheckExact(lvp) and PyList_GET_SIZE(lvp) >= 2:
        ps = PyList_GET_ITEM(lvp, 0)
        ss = PyList_GET_ITEM(lvp, 1)
    elif PyTuple_CheckExact(lvp) and PyTuple_GET_SIZE(lvp) >= 2:
        ps = PyTuple_GET_ITEM(lvp, 0)
        ss = PyTuple_GET_ITEM(lvp, 1)
    else:
        lv = <object>lvp
        try:
            a = lv[0]
            b = lv[1]
        except (TypeError, IndexError, KeyError):
            raise level_error(side, i, lv, "shape", None) from None
        return parse_pair(<PyObject*>a, <PyObject*>b, lvp, i, x, side, sign, scale)
    return parse_pair(ps, ss, lvp, i, x, side, sign, scale)


cdef inline void lv_take(Side* s, Lv* L, Parsed* x) noexcept:
    """Move the parsed level ``x`` into ``L``, a level of ``s``'s slab: numbers, and strings
    (owned str objects, or the bytes of a short string read from a frame, copied inline)."""
    cdef LvStr* t
    L.px = x.px
    L.sz = x.sz
    L.ps = x.ps
    L.ss = x.ss
    if x.ps == NULL or x.ss == NULL:
        t = &s.st[L - s.lv]
        if x.ps == NULL:
            memcpy(t.pb, x.pc, x.pn)
            t.pn = <unsigned char>x.pn
        if x.ss == NULL:
            memcpy(t.sb, x.sc, x.sn)
            t.sn = <unsigned char>x.sn
    x.ps = NULL
    x.ss = NULL


cdef PyObject* lv_str(const Side* s, Lv* L, bint size) except NULL:
    """The price (``size`` False) or the size str (borrowed) of ``L``, a level of ``s``, made
    from its inline bytes on first use."""
    cdef LvStr* t
    cdef PyObject** slot = &L.ss if size else &L.ps
    if slot[0] == NULL:
        t = &s.st[L - s.lv]
        o = ascii_str(t.sb, t.sn) if size else ascii_str(t.pb, t.pn)
        _incref(<PyObject*>o)
        slot[0] = <PyObject*>o
    return slot[0]


cdef list lv_pair(const Side* s, Lv* L):
    """``[price_str, size_str]`` of ``L``, a level of ``s``."""
    return [<object>lv_str(s, L, False), <object>lv_str(s, L, True)]


cdef inline bint one_text(PyObject* o, const char* inline, unsigned char ln, const char** p,
                          Py_ssize_t* n) noexcept:
    """The bytes of one level string: its inline bytes (``o`` NULL) or its str's; False when
    the str is not plain ASCII."""
    if o == NULL:
        p[0] = inline
        n[0] = ln
    elif PyUnicode_CheckExact(o) and PyUnicode_IS_COMPACT_ASCII(o):
        p[0] = <const char*>PyUnicode_DATA(o)
        n[0] = PyUnicode_GET_LENGTH(o)
    else:
        return False
    return True


cdef inline bint lv_text(const Side* s, Lv* L, const char** p, Py_ssize_t* n) noexcept:
    """The bytes of ``L``'s price and size strings (``p[0], n[0]`` and ``p[1], n[1]``), inline
    or of their str objects, without making a str; False when a str is not plain ASCII."""
    cdef const LvStr* t = &s.st[L - s.lv]
    cdef bint ok = one_text(L.ps, t.pb, t.pn, p, n)
    return one_text(L.ss, t.sb, t.sn, p + 1, n + 1) and ok


cdef inline object level_of(PyObject* lvp, PyObject* ps, PyObject* ss):
    """The input level for an error message: as given, else the pair ``(price, size)``."""
    return <object>lvp if lvp != NULL else str_pair(ps, ss)


cdef int parse_pair(PyObject* ps, PyObject* ss, PyObject* lvp, Py_ssize_t i, Parsed* x,
                    str side, int64_t sign, double scale) except -1:
    """Parse the price and size strings ``ps``, ``ss`` (borrowed; ``x`` takes a reference to
    each) of input level ``i`` of ``side``; ``lvp`` is the level for messages (NULL: the pair)."""
    cdef double p, s, t
    _incref(ps)
    _incref(ss)
    x.ps = ps
    x.ss = ss
    if not fast_float(ps, &p):
        p = slow_float(ps, side, i, level_of(lvp, ps, ss), "price_nan")
    if not fast_float(ss, &s):
        s = slow_float(ss, side, i, level_of(lvp, ps, ss), "size_nan")
    if not (0.0 < p < INF):
        raise level_error(side, i, level_of(lvp, ps, ss), "price", p)
    if not (0.0 <= s < INF):
        raise level_error(side, i, level_of(lvp, ps, ss), "size", s)
    t = p * scale
    if not (t < KL_F):
        raise level_error(side, i, level_of(lvp, ps, ss), "range", p, scale)
    x.key = sign * ts_round_key(t)
    x.px = p
    x.sz = s
    return 0


cdef inline object ascii_str(const char* c, Py_ssize_t n):
    """A new str of ``n`` bytes known to be printable ASCII (no decoding)."""
    o = PyUnicode_New(n, 127)
    memcpy(PyUnicode_DATA(<PyObject*>o), c, n)
    return o


cdef inline int keep_text(const char* c, Py_ssize_t n, const char** dc, Py_ssize_t* dn,
                          PyObject** do) except -1:
    """Keep one level string of printable ASCII: its bytes when short (``dc``, ``dn``: copied
    inline into the store), else a new str (``do``, owned)."""
    if n <= LV_INLINE:
        dc[0] = c
        dn[0] = n
    else:
        o = ascii_str(c, n)
        _incref(<PyObject*>o)
        do[0] = <PyObject*>o
    return 0


cdef int parse_raw(const char* pc, Py_ssize_t pn, const char* sc, Py_ssize_t sn,
                   Py_ssize_t i, Parsed* x, str side, int64_t sign, double scale,
                   bint ascii=False) except -1:
    """Parse input level ``i`` of ``side`` from the UTF-8 bytes of its price and size (the
    Arrow string layout; ``ascii``: bytes known to be printable ASCII, as
    :class:`RawLevels` holds them); ``x`` owns new strings for a level that is kept
    (size != 0)."""
    cdef double p, s, t
    if not ts_parse_decimal(pc, pn, &p):
        o = PyUnicode_DecodeUTF8(pc, pn, NULL)
        p = slow_float(<PyObject*>o, side, i, raw_level(pc, pn, sc, sn), "price_nan")
    if not ts_parse_decimal(sc, sn, &s):
        o = PyUnicode_DecodeUTF8(sc, sn, NULL)
        s = slow_float(<PyObject*>o, side, i, raw_level(pc, pn, sc, sn), "size_nan")
    if not (0.0 < p < INF):
        raise level_error(side, i, raw_level(pc, pn, sc, sn), "price", p)
    if not (0.0 <= s < INF):
        raise level_error(side, i, raw_level(pc, pn, sc, sn), "size", s)
    t = p * scale
    if not (t < KL_F):
        raise level_error(side, i, raw_level(pc, pn, sc, sn), "range", p, scale)
    x.key = sign * ts_round_key(t)
    x.px = p
    x.sz = s
    if s != 0.0:  # only a kept level needs its strings (a zero size removes or is absent)
        if ascii:  # printable ASCII: short strings stay bytes, copied inline into the store
            keep_text(pc, pn, &x.pc, &x.pn, &x.ps)
            keep_text(sc, sn, &x.sc, &x.sn, &x.ss)
            return 0
        ps = PyUnicode_DecodeUTF8(pc, pn, NULL)
        ss = PyUnicode_DecodeUTF8(sc, sn, NULL)
        _incref(<PyObject*>ps)
        _incref(<PyObject*>ss)
        x.ps = <PyObject*>ps
        x.ss = <PyObject*>ss
    return 0


cdef object raw_level(const char* pc, Py_ssize_t pn, const char* sc, Py_ssize_t sn):
    return (PyUnicode_DecodeUTF8(pc, pn, NULL), PyUnicode_DecodeUTF8(sc, sn, NULL))


cdef const char* EMPTY = ""


cdef object string_column(object col, str name, Py_ssize_t* n):
    """``(offsets, data)`` of a column in the Arrow string layout as int64 offsets and bytes."""
    if not (type(col) is tuple and len(col) == 2):
        raise ValueError(f"{name} must be a sequence of str or an (offsets, data) pair")
    off = np.ascontiguousarray(col[0], dtype=np.int64)
    data = memoryview(col[1] if col[1] is not None else b"").cast("B")  # bytes of any sign
    if off.ndim != 1 or off.shape[0] < 1:
        raise ValueError(f"{name} offsets must be a 1-d array of rows + 1 entries")
    n[0] = off.shape[0] - 1
    return off, data


cdef int parse_levels(object seq, Parsed* out, Py_ssize_t n, Py_ssize_t* filled, str side,
                      int64_t sign, double scale) except -1:
    """Parse ``seq`` (a list or tuple of ``n`` levels) into ``out``; ``filled`` counts the
    entries that may hold references (for the caller's cleanup, also on an error)."""
    cdef PyObject* sp = <PyObject*>seq
    cdef bint is_list = PyList_CheckExact(sp)
    cdef Py_ssize_t i
    cdef Parsed* x
    cdef object item
    cdef RawLevels raw
    cdef const char* b
    cdef const Py_ssize_t* o
    if type(seq) is RawLevels:  # straight from the frame's bytes: no str for a removal
        raw = <RawLevels>seq
        b = <const char*>raw._buf
        for i in range(n):
            o = raw._off + 4 * i
            x = &out[i]
            entry_clear(x)
            filled[0] = i + 1
            try:
                parse_raw(b + o[0], o[1] - o[0], b + o[2], o[3] - o[2], i, x, side, sign,
                          scale, True)
            except BookInputError:
                # refused: the error the level as orjson gives it gets, message and all
                item = raw[i]
                parse_one(<PyObject*>item, i, x, side, sign, scale)
                raise
        return 0
    for i in range(n):
        if is_list and i >= PyList_GET_SIZE(sp):  # the list shrank under us (a finaliser)
            break
        x = &out[i]
        x.ps = NULL
        x.ss = NULL
        x.o1 = NULL
        x.o2 = NULL
        filled[0] = i + 1
        # a strong reference while the level is parsed: Python's float() of an unusual type
        # may run code that changes the list
        item = <object>(PyList_GET_ITEM(sp, i) if is_list else PyTuple_GET_ITEM(sp, i))
        parse_one(<PyObject*>item, i, x, side, sign, scale)
    return 0


cdef inline void entry_clear(Parsed* x) noexcept nogil:
    x.ps = NULL
    x.ss = NULL
    x.o1 = NULL
    x.o2 = NULL
    x.pc = EMPTY
    x.sc = EMPTY
    x.pn = 0
    x.sn = 0


cdef void release_parsed(Parsed* e, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        _xdecref(e[i].ps)
        _xdecref(e[i].ss)
        _xdecref(e[i].o1)
        _xdecref(e[i].o2)


cdef inline object as_seq(object levels):
    t = type(levels)
    if t is list or t is tuple or t is RawLevels:
        return levels
    return list(levels)


cdef int cmp_keyidx(const void* a, const void* b) noexcept nogil:
    cdef const KeyIdx* x = <const KeyIdx*>a
    cdef const KeyIdx* y = <const KeyIdx*>b
    if x.key != y.key:
        return -1 if x.key < y.key else 1
    return -1 if x.i < y.i else (1 if x.i > y.i else 0)


cdef KeyIdx* sorted_keys(Parsed* e, Py_ssize_t m) except? NULL:
    """The entries' ``(key, index)`` in ascending order (a new array; NULL when ``m == 0``).
    Levels sent best first (keys strictly falling, as venues send them) or worst first are
    taken in order without a sort."""
    cdef KeyIdx* ki
    cdef Py_ssize_t i
    cdef bint down = True, up = True
    if m == 0:
        return NULL
    ki = <KeyIdx*>PyMem_Malloc(m * sizeof(KeyIdx))
    if ki == NULL:
        raise MemoryError()
    for i in range(1, m):
        if e[i].key >= e[i - 1].key:
            down = False
        if e[i].key <= e[i - 1].key:
            up = False
    if down:
        for i in range(m):
            ki[i].key = e[m - 1 - i].key
            ki[i].i = m - 1 - i
        return ki
    for i in range(m):
        ki[i].key = e[i].key
        ki[i].i = i
    if not up:
        qsort(ki, m, sizeof(KeyIdx), cmp_keyidx)
    return ki


cdef double side_merge(Side* s, Parsed* e, Py_ssize_t m, int64_t lim, double tot) except? -1.0:
    """:func:`side_apply` for many levels at once (room reserved): the same levels, strings and
    in-band sum, in one merge of the sorted changes with the side instead of a move of the
    keys per level (a deep level of a 1,000-level side moves 12 kB).

    The in-band sum takes the same terms as level-by-level application, in input order (a
    key's earlier mentions in the delta are followed through), so it is the same float.
    """
    cdef KeyIdx* ki = NULL
    cdef double* dv = NULL
    cdef unsigned char* has = NULL
    cdef int64_t* nk = NULL
    cdef int32_t* ns = NULL
    cdef Py_ssize_t i, j, t, a = 0, w = 0
    cdef int64_t k
    cdef int32_t sl
    cdef bint present
    cdef double cur
    cdef Parsed* x
    cdef Parsed* f
    cdef Lv* L
    if m == 0:
        return tot
    try:
        ki = sorted_keys(e, m)  # ascending key, then input order
        dv = <double*>PyMem_Malloc(m * sizeof(double))
        has = <unsigned char*>PyMem_Malloc(m)
        if dv == NULL or has == NULL:
            raise MemoryError()
        # one merge of the sorted changes with the side: each key's last mention decides; the
        # in-band terms of each mention are taken as the merge reaches the key (its state
        # followed through the delta), then summed in input order
        nk = s.keys2  # room for s.n + m levels is reserved by the caller
        ns = s.slot2
        i = 0
        while i < m:
            k = ki[i].key
            j = i
            while j + 1 < m and ki[j + 1].key == k:
                j += 1
            while a < s.n and s.keys[a] < k:
                nk[w] = s.keys[a]
                ns[w] = s.slot[a]
                a += 1
                w += 1
            for t in range(i, j + 1):
                has[ki[t].i] = 0
            if k >= lim:
                present = a < s.n and s.keys[a] == k
                cur = s.lv[s.slot[a]].sz if present else 0.0
                for t in range(i, j + 1):
                    x = &e[ki[t].i]
                    if x.sz == 0.0:
                        if present:
                            dv[ki[t].i] = -cur
                            has[ki[t].i] = 1
                            present = False
                    else:
                        dv[ki[t].i] = x.sz - cur if present else x.sz
                        has[ki[t].i] = 1
                        present = True
                        cur = x.sz
            f = &e[ki[j].i]
            if a < s.n and s.keys[a] == k:
                L = &s.lv[s.slot[a]]
                f.o1 = L.ps
                f.o2 = L.ss
                if f.sz == 0.0:  # removed
                    L.ps = NULL
                    L.ss = NULL
                    s.free[s.nfree] = s.slot[a]
                    s.nfree += 1
                else:  # changed
                    lv_take(s, L, f)
                    nk[w] = k
                    ns[w] = s.slot[a]
                    w += 1
                a += 1
            elif f.sz != 0.0:  # new
                if s.nfree:
                    s.nfree -= 1
                    sl = s.free[s.nfree]
                else:
                    sl = <int32_t>s.hi
                    s.hi += 1
                L = &s.lv[sl]
                lv_take(s, L, f)
                nk[w] = k
                ns[w] = sl
                w += 1
            i = j + 1
        while a < s.n:
            nk[w] = s.keys[a]
            ns[w] = s.slot[a]
            a += 1
            w += 1
        s.keys2 = s.keys
        s.slot2 = s.slot
        s.keys = nk
        s.slot = ns
        for t in range(m):
            if has[t]:
                tot += dv[t]
        s.n = w
    finally:
        PyMem_Free(ki)
        PyMem_Free(dv)
        PyMem_Free(has)
    return tot


cdef Py_ssize_t delta_count(const Side* s, Parsed* e, Py_ssize_t m) except -1:
    """The side's level count once the entries are applied (a key's last mention decides)."""
    cdef KeyIdx* ki = sorted_keys(e, m)
    cdef Py_ssize_t n = s.n, i = 0, j, pos
    try:
        while i < m:
            j = i
            while j + 1 < m and ki[j + 1].key == ki[i].key:
                j += 1
            pos = side_lower(s, ki[i].key)
            if pos < s.n and s.keys[pos] == ki[i].key:
                n -= 1
            if e[ki[j].i].sz != 0.0:
                n += 1
            i = j + 1
    finally:
        PyMem_Free(ki)
    return n


cdef Py_ssize_t snapshot_pick(Parsed* e, Py_ssize_t m, Py_ssize_t** order) except -1:
    """The levels a snapshot keeps, ascending: returns their count and sets ``order`` to
    their entry indices (a new array), or to NULL when the input was strictly best-first
    (then the kept entries are the non-zero ones, taken from the last to the first)."""
    cdef Py_ssize_t i, j, n = 0
    cdef bint monotone = True
    cdef KeyIdx* ki
    cdef Py_ssize_t* out
    order[0] = NULL
    for i in range(1, m):
        if e[i].key >= e[i - 1].key:
            monotone = False
            break
    if monotone:
        for i in range(m):
            if e[i].sz != 0.0:
                n += 1
        return n
    ki = sorted_keys(e, m)
    try:
        out = <Py_ssize_t*>PyMem_Malloc(m * sizeof(Py_ssize_t))
        if out == NULL:
            raise MemoryError()
        i = 0
        while i < m:
            j = i
            while j + 1 < m and ki[j + 1].key == ki[i].key:
                j += 1
            if e[ki[j].i].sz != 0.0:  # the last mention of the price decides
                out[n] = ki[j].i
                n += 1
            i = j + 1
    finally:
        PyMem_Free(ki)
    order[0] = out
    return n


cdef void snapshot_fill(Side* s, Parsed* e, Py_ssize_t m, Py_ssize_t* order,
                        Py_ssize_t n) noexcept:
    """Fill the empty side ``s`` (room for ``n``) with the picked entries, moving strings."""
    cdef Py_ssize_t i, j = 0
    cdef Parsed* x
    cdef Lv* L
    if order == NULL:
        i = m - 1
        while i >= 0:
            x = &e[i]
            i -= 1
            if x.sz == 0.0:
                continue
            s.keys[j] = x.key
            s.slot[j] = <int32_t>j
            L = &s.lv[j]
            lv_take(s, L, x)
            j += 1
    else:
        for j in range(n):
            x = &e[order[j]]
            s.keys[j] = x.key
            s.slot[j] = <int32_t>j
            L = &s.lv[j]
            lv_take(s, L, x)
    s.n = n
    s.hi = n
    s.nfree = 0


cdef Py_ssize_t count_arg(object n, Py_ssize_t length) except -1:
    """How many of ``length`` best-first levels a slice ``[:n]`` keeps (all when None)."""
    cdef int overflow = 0
    cdef long long v
    if n is None:
        return length
    if not PyLong_CheckExact(n):
        n = PyNumber_Index(n)
    v = PyLong_AsLongLongAndOverflow(n, &overflow)
    if overflow > 0 or (overflow == 0 and v >= length):
        return length
    if overflow < 0 or v <= -length:
        return 0
    return <Py_ssize_t>v if v >= 0 else length + <Py_ssize_t>v


cdef inline object pair(double a, double b):
    t = PyTuple_New(2)
    x = PyFloat_FromDouble(a)
    y = PyFloat_FromDouble(b)
    _incref(<PyObject*>x)
    _incref(<PyObject*>y)
    PyTuple_SET_ITEM(t, 0, <PyObject*>x)
    PyTuple_SET_ITEM(t, 1, <PyObject*>y)
    return t


cdef inline object str_pair(PyObject* a, PyObject* b):
    t = PyTuple_New(2)
    _incref(a)
    _incref(b)
    PyTuple_SET_ITEM(t, 0, a)
    PyTuple_SET_ITEM(t, 1, b)
    return t


cdef inline int64_t bid_edge(double x) noexcept nogil:
    """The bid band's lowest key: ``ceil(x)``, clamped beyond the key range (NaN: all)."""
    if -KL_F < x < KL_F:
        return <int64_t>ceil(x)
    return KL + 1 if x >= KL_F else -KL


cdef inline int64_t ask_edge(double x) noexcept nogil:
    """The ask band's lowest key: ``-floor(x)``, clamped beyond the key range (NaN: all)."""
    if -KL_F < x < KL_F:
        return -<int64_t>floor(x)
    return KL + 1 if x <= -KL_F else -KL


# -- the book --------------------------------------------------------------------------------
cdef class OrderBook:
    """OrderBook(instrument=None, *, venue='', symbol='', price_scale=None, max_levels=200000)

    L2 book for one instrument.

    Parameters
    ----------
    instrument : Instrument, optional
        Gives the venue, symbol, size conversions and the price grid. Without it the book
        works in the venue's size units with a price grid of ``1 / price_scale``.
    venue, symbol : str
        Used when there is no instrument.
    price_scale : float, optional
        Ticks per unit price for the integer keys; default ``10**(price_decimals + 2)`` of the
        instrument, else ``1e8``.
    max_levels : int
        The most levels a side may hold (default ``DEFAULT_MAX_LEVELS``, 200,000); a snapshot
        or delta that would leave more is refused with ``LevelCapError``.

    Attributes
    ----------
    instrument : Instrument or None
        As given.
    venue, symbol : str
        The instrument's, else as given.
    seq : int or None
        The sequence number of the last event applied with :meth:`apply`.
    stale : bool
        True until the first snapshot, and from a gap or checksum failure (set by the feed)
        to the next snapshot.
    updates : int
        Snapshots and deltas applied.
    last_exch_ts_ns, last_recv_ts_ns : int
        The venue's and the local receive time of the last event applied with :meth:`apply`.

    Notes
    -----
    ``stale`` is set by the feed handler on a sequence gap or checksum failure and cleared by
    the next snapshot; ``valid`` is False while the book is stale, empty on a side, or crossed
    (best bid >= best ask). A crossed book is never served as valid.

    Every price must be a finite number > 0 and every size a finite number >= 0 (0 removes a
    level): a snapshot or delta holding any other level is refused whole with
    ``InvalidLevelError``, and the book is left as it was.
    """

    cdef Side _b
    cdef Side _a
    cdef Side _bspare
    cdef Side _aspare
    cdef double _scale
    cdef Py_ssize_t _max
    cdef int64_t _blim[2]
    cdef double _bsum[2]
    cdef double _bbps[2]
    cdef long _buses
    cdef unsigned long long _version
    cdef public object instrument
    cdef public object venue
    cdef public object symbol
    cdef public object seq
    cdef public object stale
    cdef public object updates
    cdef public object last_exch_ts_ns
    cdef public object last_recv_ts_ns

    def __cinit__(self, *args, **kwargs):
        side_zero(&self._b)
        side_zero(&self._a)
        side_zero(&self._bspare)
        side_zero(&self._aspare)
        self._no_band()

    def __init__(self, instrument=None, *, venue="", symbol="", price_scale=None,
                 max_levels=DEFAULT_MAX_LEVELS):
        self.instrument = instrument
        self.venue = instrument.venue if instrument else venue
        self.symbol = instrument.symbol if instrument else symbol
        self._scale = check_price_scale(instrument, price_scale)
        self._max = check_max_levels(max_levels)
        self._version = 0
        self.seq = None
        self.stale = True  # until the first snapshot
        self.updates = 0
        self.last_exch_ts_ns = 0
        self.last_recv_ts_ns = 0

    def __dealloc__(self):
        side_release(&self._b)
        side_release(&self._a)
        side_release(&self._bspare)
        side_release(&self._aspare)
        side_free_arrays(&self._b)
        side_free_arrays(&self._a)
        side_free_arrays(&self._bspare)
        side_free_arrays(&self._aspare)

    cdef inline void _no_band(self) noexcept:
        self._blim[0] = NO_BAND
        self._blim[1] = NO_BAND
        self._bsum[0] = 0.0
        self._bsum[1] = 0.0
        self._bbps[0] = -1.0
        self._bbps[1] = -1.0
        self._buses = 0

    @property
    def price_scale(self):
        """Ticks per unit price of the integer keys."""
        return self._scale

    @property
    def max_levels(self):
        """The most levels a side may hold."""
        return self._max

    @property
    def version(self):
        """A counter bumped by every change of the levels (apply, remove_crossed, clear).

        Equal versions of one book mean equal levels: a cache of anything derived from the
        levels can be keyed on ``(book, book.version)``.
        """
        return self._version

    # -- mutation -----------------------------------------------------------------------
    def clear(self):
        """Remove every level; the book is stale (and ``seq`` None) until the next snapshot."""
        cdef Side ob = self._b
        cdef Side oa = self._a
        self._b = self._bspare
        self._a = self._aspare
        self._bspare = ob
        self._aspare = oa
        self._no_band()
        self._version += 1
        self.seq = None
        self.stale = True
        side_release(&self._bspare)
        side_release(&self._aspare)

    def apply(self, event):
        """Apply a snapshot (replaces the book, clears ``stale``) or a delta.

        Sets ``seq``, ``last_exch_ts_ns`` and ``last_recv_ts_ns`` from the event; a refused
        event (``BookInputError``) changes nothing.
        """
        if type(self) is not OrderBook:  # a subclass may override the two entries
            if type(event) is _BookSnapshot:
                self.apply_snapshot(event.bids, event.asks)
            else:
                self.apply_delta(event.bids, event.asks)
        elif type(event) is _BookSnapshot:
            self._snapshot_levels(event.bids, event.asks)
        else:
            self._delta_levels(event.bids, event.asks)
        self.seq = event.seq
        self.last_exch_ts_ns = event.exch_ts_ns
        self.last_recv_ts_ns = event.recv_ts_ns

    def apply_snapshot(self, bids, asks):
        """Replace the book by these levels and clear ``stale``.

        Parameters
        ----------
        bids, asks : iterable of ``[price_str, size_str, ...]``
            As the venue sent them (the lists orjson gives); any order. A size of zero means
            the level is absent; where a price appears twice its last mention wins.

        Raises
        ------
        InvalidLevelError
            A level whose price or size is not a valid number (see the class notes).
        LevelCapError
            More than ``max_levels`` levels on a side.
        """
        self._snapshot_levels(bids, asks)

    cdef int _snapshot_levels(self, object bids, object asks) except -1:
        cdef Parsed stackbuf[STACK_LEVELS]
        cdef Parsed* buf = stackbuf
        cdef Py_ssize_t nb, na, fb = 0, fa = 0
        bseq = as_seq(bids)
        aseq = as_seq(asks)
        nb = len(bseq)
        na = len(aseq)
        if nb + na > STACK_LEVELS:
            buf = <Parsed*>PyMem_Malloc((nb + na) * sizeof(Parsed))
            if buf == NULL:
                raise MemoryError()
        try:
            parse_levels(bseq, buf, nb, &fb, "bid", 1, self._scale)
            parse_levels(aseq, buf + nb, na, &fa, "ask", -1, self._scale)
            self._snapshot_parsed(buf, fb, buf + nb, fa)
        finally:
            release_parsed(buf, fb)
            release_parsed(buf + nb, fa)
            if buf != stackbuf:
                PyMem_Free(buf)
        return 0

    cdef int _snapshot_parsed(self, Parsed* pb, Py_ssize_t fb, Parsed* pa,
                              Py_ssize_t fa) except -1:
        """Replace the levels by the parsed ones (the caller releases the entries)."""
        cdef Py_ssize_t kb, ka
        cdef Py_ssize_t* ob = NULL
        cdef Py_ssize_t* oa = NULL
        cdef Side tmp
        try:
            kb = snapshot_pick(pb, fb, &ob)
            ka = snapshot_pick(pa, fa, &oa)
            if kb > self._max:
                raise cap_error("snapshot", "bid", kb, self._max)
            if ka > self._max:
                raise cap_error("snapshot", "ask", ka, self._max)
            _fit(&self._bspare, kb)
            _fit(&self._aspare, ka)
            snapshot_fill(&self._bspare, pb, fb, ob, kb)
            snapshot_fill(&self._aspare, pa, fa, oa, ka)
            tmp = self._b
            self._b = self._bspare
            self._bspare = tmp
            tmp = self._a
            self._a = self._aspare
            self._aspare = tmp
            self._no_band()
            self._version += 1
            self.stale = False
            self.updates += 1
            side_release(&self._bspare)
            side_release(&self._aspare)
        finally:
            PyMem_Free(ob)
            PyMem_Free(oa)
        return 0

    def apply_delta(self, bids, asks):
        """Apply changed levels: a size sets the level, a size of zero removes it.

        Parameters
        ----------
        bids, asks : iterable of ``[price_str, size_str, ...]``
            As the venue sent them (the lists orjson gives), applied in order.

        Raises
        ------
        InvalidLevelError
            A level whose price or size is not a valid number (see the class notes).
        LevelCapError
            The delta would leave more than ``max_levels`` levels on a side.
        """
        self._delta_levels(bids, asks)

    cdef int _delta_levels(self, object bids, object asks) except -1:
        cdef Parsed stackbuf[STACK_LEVELS]
        cdef Parsed* buf = stackbuf
        cdef Py_ssize_t nb, na, fb = 0, fa = 0
        bseq = as_seq(bids)
        aseq = as_seq(asks)
        nb = len(bseq)
        na = len(aseq)
        if nb + na > STACK_LEVELS:
            buf = <Parsed*>PyMem_Malloc((nb + na) * sizeof(Parsed))
            if buf == NULL:
                raise MemoryError()
        try:
            parse_levels(bseq, buf, nb, &fb, "bid", 1, self._scale)
            parse_levels(aseq, buf + nb, na, &fa, "ask", -1, self._scale)
            self._delta_parsed(buf, fb, buf + nb, fa)
        finally:
            release_parsed(buf, fb)
            release_parsed(buf + nb, fa)
            if buf != stackbuf:
                PyMem_Free(buf)
        return 0

    cdef int _delta_parsed(self, Parsed* pb, Py_ssize_t fb, Parsed* pa,
                           Py_ssize_t fa) except -1:
        """Apply the parsed changes (the caller releases the entries)."""
        cdef Py_ssize_t c
        if self._b.n + fb > self._max:  # else it cannot exceed the cap
            c = delta_count(&self._b, pb, fb)
            if c > self._max:
                raise cap_error("delta", "bid", c, self._max)
        if self._a.n + fa > self._max:
            c = delta_count(&self._a, pa, fa)
            if c > self._max:
                raise cap_error("delta", "ask", c, self._max)
        side_reserve(&self._b, self._b.n + fb)
        side_reserve(&self._a, self._a.n + fa)
        # the tracked depth band of each side (see depth_within_bps) is kept up to date
        if fb > MERGE_MIN:
            self._bsum[0] = side_merge(&self._b, pb, fb, self._blim[0], self._bsum[0])
        else:
            self._bsum[0] = side_apply(&self._b, pb, fb, self._blim[0], self._bsum[0])
        if fa > MERGE_MIN:
            self._bsum[1] = side_merge(&self._a, pa, fa, self._blim[1], self._bsum[1])
        else:
            self._bsum[1] = side_apply(&self._a, pa, fa, self._blim[1], self._bsum[1])
        self._version += 1
        self.updates += 1
        return 0

    def apply_arrays(self, starts, snapshot, is_bid, price, amount, *, uncross=False,
                     refused="raise"):
        """Apply a run of updates given column-wise (a Tardis chunk) in one call.

        Equivalent to, for each update ``u`` in order (its rows ``r`` from ``starts[u]`` to
        ``starts[u + 1]`` excluded, the last to the end of the rows)::

            bids = [(price[r], amount[r]) for r in rows if is_bid[r]]
            asks = [(price[r], amount[r]) for r in rows if not is_bid[r]]
            self.apply_snapshot(bids, asks) if snapshot[u] else self.apply_delta(bids, asks)
            if uncross and self.crossed:
                self.remove_crossed()

        With ``refused="stale"`` a refused update is counted instead of raised, the book left
        as it was but marked stale, and while the book is stale its deltas are skipped until a
        snapshot: what a venue feed does with an event its book refuses.

        Parameters
        ----------
        starts : array of int
            The first row of each update: starts at 0, strictly increasing, below the rows.
        snapshot : array of bool
            Per update: a snapshot (replaces the book) or a delta.
        is_bid : array of bool
            Per row: a bid or an ask level.
        price, amount : sequence of str, or (offsets, data)
            Per row: the level's price and size strings (an amount of zero removes it); or
            the Arrow string layout, ``offsets`` (rows + 1 integers) into the UTF-8 bytes
            ``data``, row ``r`` being ``data[offsets[r]:offsets[r + 1]]`` (a kept level's
            strings are made from those bytes).
        uncross : bool
            Remove the crossing levels after an update that leaves the book crossed.
        refused : {"raise", "stale"}
            What a refused update does (see above).

        Returns
        -------
        ArraysApplied
            ``(crossed, removed, refused, skipped)``: the updates after which the book was
            crossed, the levels ``uncross`` removed, the updates refused and the deltas skipped
            while the book was stale (the last two only with ``refused="stale"``).

        Raises
        ------
        InvalidLevelError, LevelCapError
            With ``refused="raise"``, as :meth:`apply_snapshot` and :meth:`apply_delta`, for
            the first update refused; its index is the error's ``update``. The updates before
            it are applied, it is not.
        ValueError
            Arrays of inconsistent lengths, or ``starts`` not as described.
        """
        cdef const int64_t[::1] st = np.ascontiguousarray(starts, dtype=np.int64)
        cdef const unsigned char[::1] sn = np.ascontiguousarray(snapshot, dtype=np.bool_).view(np.uint8)
        cdef const unsigned char[::1] bd = np.ascontiguousarray(is_bid, dtype=np.bool_).view(np.uint8)
        cdef Py_ssize_t nu = st.shape[0], nr, na_rows, u, r, s0, e0, nb, na, bi, ai, most = 0
        cdef Py_ssize_t fb = 0, fa = 0, crossed = 0, removed = 0, n_refused = 0, skipped = 0
        cdef bint stale_mode = check_refused(refused)
        cdef Parsed* buf = NULL
        cdef PyObject* pl = NULL
        cdef PyObject* al = NULL
        cdef const int64_t[::1] po
        cdef const int64_t[::1] ao
        cdef const unsigned char[::1] pd
        cdef const unsigned char[::1] ad
        cdef const char* pbase = EMPTY
        cdef const char* abase = EMPTY
        cdef bint raw = type(price) is tuple
        if raw != (type(amount) is tuple):
            raise ValueError("price and amount must both be sequences of str or both "
                             "(offsets, data) pairs")
        if raw:
            poff, pdata = string_column(price, "price", &nr)
            aoff, adata = string_column(amount, "amount", &na_rows)
            po = poff
            ao = aoff
            pd = pdata
            ad = adata
            if pd.shape[0]:
                pbase = <const char*>&pd[0]
            if ad.shape[0]:
                abase = <const char*>&ad[0]
            for r in range(nr):
                if not (0 <= po[r] <= po[r + 1] <= pd.shape[0]):
                    raise ValueError(f"price offsets[{r}] out of order or beyond the data")
            for r in range(na_rows):
                if not (0 <= ao[r] <= ao[r + 1] <= ad.shape[0]):
                    raise ValueError(f"amount offsets[{r}] out of order or beyond the data")
        else:
            # lists of our own (tolist() of an array is a new list): their items stay put
            pv = price.tolist() if isinstance(price, np.ndarray) else list(price)
            av = amount.tolist() if isinstance(amount, np.ndarray) else list(amount)
            pl = <PyObject*>pv
            al = <PyObject*>av
            nr = len(pv)
            na_rows = len(av)
        if na_rows != nr or bd.shape[0] != nr:
            raise ValueError(f"is_bid, price and amount must have one entry a row: "
                             f"{bd.shape[0]}, {nr}, {na_rows}")
        if sn.shape[0] != nu:
            raise ValueError(f"snapshot has {sn.shape[0]} entries for {nu} updates")
        if nu == 0:
            if nr:
                raise ValueError(f"{nr} rows but no update starts")
            return _tuple_new(ArraysApplied, (0, 0, 0, 0))
        if st[0] != 0:
            raise ValueError(f"starts[0]={st[0]} must be 0")
        for u in range(nu):
            e0 = st[u + 1] if u + 1 < nu else nr
            if not (st[u] < e0 and e0 <= nr):
                raise ValueError(f"starts must be strictly increasing and below the {nr} rows "
                                 f"(starts[{u}]={st[u]})")
            if e0 - st[u] > most:
                most = e0 - st[u]
        buf = <Parsed*>PyMem_Malloc(most * sizeof(Parsed))
        if buf == NULL:
            raise MemoryError()
        try:
            for u in range(nu):
                s0 = st[u]
                e0 = st[u + 1] if u + 1 < nu else nr
                nb = 0
                for r in range(s0, e0):
                    nb += bd[r]
                na = e0 - s0 - nb
                bi = 0
                ai = 0
                fb = 0
                fa = 0
                if stale_mode and not sn[u] and self.stale:
                    skipped += 1  # a stale book waits for a snapshot
                    continue
                try:
                    for r in range(s0, e0):
                        if bd[r]:
                            entry_clear(&buf[bi])
                            fb = bi + 1
                            if raw:
                                parse_raw(pbase + po[r], po[r + 1] - po[r], abase + ao[r],
                                          ao[r + 1] - ao[r], bi, &buf[bi], "bid", 1,
                                          self._scale)
                            else:
                                parse_pair(PyList_GET_ITEM(pl, r), PyList_GET_ITEM(al, r), NULL,
                                           bi, &buf[bi], "bid", 1, self._scale)
                            bi += 1
                        else:
                            entry_clear(&buf[nb + ai])
                            fa = ai + 1
                            if raw:
                                parse_raw(pbase + po[r], po[r + 1] - po[r], abase + ao[r],
                                          ao[r + 1] - ao[r], ai, &buf[nb + ai], "ask", -1,
                                          self._scale)
                            else:
                                parse_pair(PyList_GET_ITEM(pl, r), PyList_GET_ITEM(al, r), NULL,
                                           ai, &buf[nb + ai], "ask", -1, self._scale)
                            ai += 1
                    if sn[u]:
                        self._snapshot_parsed(buf, fb, buf + nb, fa)
                    else:
                        self._delta_parsed(buf, fb, buf + nb, fa)
                except BookInputError as e:
                    if not stale_mode:
                        e.update = u
                        raise
                    n_refused += 1
                    self.stale = True
                    continue
                finally:
                    release_parsed(buf, fb)
                    release_parsed(buf + nb, fa)
                if (self._b.n and self._a.n
                        and self._b.keys[self._b.n - 1] + self._a.keys[self._a.n - 1] >= 0):
                    crossed += 1
                    if uncross:
                        i, j = self.remove_crossed()
                        removed += i + j
        finally:
            PyMem_Free(buf)
        return _tuple_new(ArraysApplied, (crossed, removed, n_refused, skipped))

    def truncate(self, depth):
        """Drop the worst levels beyond ``depth`` a side; return how many were dropped.

        For a venue that keeps its book at the subscribed depth and sends no removal for a
        level pushed beyond it (Kraken). The removal goes through :meth:`apply_delta`, so the
        tracked depth bands stay consistent.
        """
        cdef Py_ssize_t d, i
        cdef Lv* L
        if type(depth) is not int or depth < 1:
            raise ValueError(f"depth={depth!r} must be an integer >= 1")
        d = depth
        drop_b = []
        drop_a = []
        for i in range(self._b.n - d):  # keys run worst first
            L = side_best(&self._b, self._b.n - 1 - i)
            drop_b.append((<object>lv_str(&self._b, L, False), "0"))
        for i in range(self._a.n - d):
            L = side_best(&self._a, self._a.n - 1 - i)
            drop_a.append((<object>lv_str(&self._a, L, False), "0"))
        if drop_b or drop_a:
            self.apply_delta(drop_b, drop_a)
        return len(drop_b) + len(drop_a)

    def remove_crossed(self):
        """Uncross the book by removing the fewest levels; return ``(bids_removed, asks_removed)``.

        Rule: choose how many of the best bids (:math:`i`) and the best asks (:math:`j`) to
        remove so that the remaining best bid is below the remaining best ask (or a side is
        empty), minimising :math:`i + j`; ties go to the smaller removed size (the sizes summed
        best first), then to the smaller :math:`i`. For a full-snapshot feed with stale levels
        stuck on one side (the GoQuant relay), this removes exactly the stuck levels.

        Notes
        -----
        For each :math:`i` the least :math:`j` is the number of asks at or below the
        :math:`(i+1)`-th best bid, which falls as :math:`i` grows: one pass over the bids with
        a pointer into the asks, stopped once :math:`i` alone exceeds the best count found,
        so the work is linear in the levels removed plus the asks at or below the best bid.
        """
        cdef Side* b = &self._b
        cdef Side* a = &self._a
        cdef Py_ssize_t nb = b.n, na = a.n, j, t, i, n, best_n, best_i = 0, best_j = 0
        cdef double acc, bsum, sz, best_sz = 0.0
        cdef double* apre
        cdef int64_t bk
        cdef PyObject** dead
        cdef Py_ssize_t nd = 0
        if not (nb and na and b.keys[nb - 1] + a.keys[na - 1] >= 0):
            return (0, 0)
        j = na - side_lower(a, -b.keys[nb - 1])
        apre = <double*>PyMem_Malloc((j + 1) * sizeof(double))
        if apre == NULL:
            raise MemoryError()
        apre[0] = 0.0
        acc = 0.0
        for t in range(j):
            acc += side_best(a, t).sz
            apre[t + 1] = acc
        best_n = nb + na + 1
        bsum = 0.0
        i = 0
        while i <= nb and i <= best_n:
            if i < nb:
                bk = b.keys[nb - 1 - i]
                while j > 0 and -a.keys[na - j] > bk:
                    j -= 1
            else:
                j = 0
            n = i + j
            sz = bsum + apre[j]
            if n < best_n or (n == best_n and sz < best_sz):
                best_n = n
                best_sz = sz
                best_i = i
                best_j = j
            if i < nb:
                bsum += side_best(b, i).sz
            i += 1
        PyMem_Free(apre)
        dead = <PyObject**>PyMem_Malloc((2 * (best_i + best_j) + 1) * sizeof(PyObject*))
        if dead == NULL:
            raise MemoryError()
        for t in range(best_i):
            _take(b, &dead[nd])
            nd += 2
        for t in range(best_j):
            _take(a, &dead[nd])
            nd += 2
        self._no_band()
        self._version += 1
        for t in range(nd):
            _xdecref(dead[t])
        PyMem_Free(dead)
        return (best_i, best_j)

    # -- top of book --------------------------------------------------------------------
    @property
    def best_bid(self):
        """Best bid price, NaN when the side is empty."""
        return side_best(&self._b, 0).px if self._b.n else NAN

    @property
    def best_ask(self):
        """Best ask price, NaN when the side is empty."""
        return side_best(&self._a, 0).px if self._a.n else NAN

    @property
    def best_bid_size(self):
        """Size at the best bid (venue units), NaN when the side is empty."""
        return side_best(&self._b, 0).sz if self._b.n else NAN

    @property
    def best_ask_size(self):
        """Size at the best ask (venue units), NaN when the side is empty."""
        return side_best(&self._a, 0).sz if self._a.n else NAN

    @property
    def mid(self):
        """``(best_bid + best_ask) / 2``, NaN when a side is empty."""
        if self._b.n and self._a.n:
            return 0.5 * (side_best(&self._b, 0).px + side_best(&self._a, 0).px)
        return NAN

    @property
    def spread(self):
        """``best_ask - best_bid``, NaN when a side is empty."""
        if self._b.n and self._a.n:
            return side_best(&self._a, 0).px - side_best(&self._b, 0).px
        return NAN

    @property
    def spread_bps(self):
        """The spread in basis points of the mid."""
        return 1e4 * self.spread / self.mid

    @property
    def microprice(self):
        """Size-weighted mid: ``(P_b Q_a + P_a Q_b) / (Q_a + Q_b)``."""
        cdef Lv* x
        cdef Lv* y
        if not (self._b.n and self._a.n):
            return NAN
        x = side_best(&self._b, 0)
        y = side_best(&self._a, 0)
        return (x.px * y.sz + y.px * x.sz) / (y.sz + x.sz)

    @property
    def crossed(self):
        """Best bid >= best ask (locked books count as crossed: no valid spread)."""
        return bool(self._b.n and self._a.n
                    and self._b.keys[self._b.n - 1] + self._a.keys[self._a.n - 1] >= 0)

    @property
    def locked(self):
        """Best bid == best ask (on the tick grid)."""
        return bool(self._b.n and self._a.n
                    and self._b.keys[self._b.n - 1] + self._a.keys[self._a.n - 1] == 0)

    @property
    def valid(self):
        """Fresh (not stale), both sides present, and not crossed or locked."""
        return bool(not self.stale and self._b.n and self._a.n
                    and self._b.keys[self._b.n - 1] + self._a.keys[self._a.n - 1] < 0)

    def __len__(self):
        return self._b.n + self._a.n

    @property
    def n_bids(self):
        """Number of bid levels."""
        return self._b.n

    @property
    def n_asks(self):
        """Number of ask levels."""
        return self._a.n

    # -- views --------------------------------------------------------------------------
    cdef Side* _side(self, object side) except NULL:
        if side is "bid" or side == "bid":
            return &self._b
        if side is "ask" or side == "ask":
            return &self._a
        raise ValueError(f"side={side!r} is not one of 'bid', 'ask'")

    def levels(self, side, n=None):
        """Best-first ``(price, size)`` of up to ``n`` levels (all when None)."""
        cdef Side* s = self._side(side)
        cdef Py_ssize_t k = count_arg(n, s.n), i
        cdef Lv* L
        out = PyList_New(k)
        for i in range(k):
            L = side_best(s, i)
            t = pair(L.px, L.sz)
            _incref(<PyObject*>t)
            PyList_SET_ITEM(out, i, <PyObject*>t)
        return out

    def level_strings(self, side, n):
        """Best-first venue strings ``(price_str, size_str)`` of up to ``n`` levels."""
        cdef Side* s = self._side(side)
        cdef Py_ssize_t k = count_arg(n, s.n), i
        cdef Lv* L
        out = PyList_New(k)
        for i in range(k):
            L = side_best(s, i)
            t = str_pair(lv_str(s, L, False), lv_str(s, L, True))
            _incref(<PyObject*>t)
            PyList_SET_ITEM(out, i, <PyObject*>t)
        return out

    def checksum_string(self, n):
        """``"bid1px:bid1sz:ask1px:ask1sz:..."`` over the best ``n`` levels a side, from the
        venue's exact strings, sides interleaved bid first; where one side is shorter the
        other's remaining levels follow alone (the OKX v5 checksum layout). Every field is
        joined by ``":"``, so this is the levels' price and size strings, interleaved, and
        one join."""
        cdef Side* b = &self._b
        cdef Side* a = &self._a
        cdef Py_ssize_t kb = count_arg(n, b.n), ka = count_arg(n, a.n)
        cdef Py_ssize_t m = kb if kb < ka else ka, total = 0, i, k = 0, nparts
        cdef const char** ptr
        cdef Py_ssize_t* ln
        cdef bint ascii = True
        cdef char* dst
        nparts = 2 * (kb + ka)
        if nparts == 0:
            return ""
        ptr = <const char**>PyMem_Malloc(nparts * sizeof(const char*))
        ln = <Py_ssize_t*>PyMem_Malloc(nparts * sizeof(Py_ssize_t))
        if ptr == NULL or ln == NULL:
            PyMem_Free(ptr)
            PyMem_Free(ln)
            raise MemoryError()
        try:
            for i in range(m):
                ascii &= lv_text(b, side_best(b, i), &ptr[k], &ln[k])
                ascii &= lv_text(a, side_best(a, i), &ptr[k + 2], &ln[k + 2])
                k += 4
            for i in range(m, kb):
                ascii &= lv_text(b, side_best(b, i), &ptr[k], &ln[k])
                k += 2
            for i in range(m, ka):
                ascii &= lv_text(a, side_best(a, i), &ptr[k], &ln[k])
                k += 2
            if not ascii:  # not all plain ASCII str: Python's own join (and its errors)
                lst = []
                for i in range(m):
                    lst += lv_pair(b, side_best(b, i))
                    lst += lv_pair(a, side_best(a, i))
                for i in range(m, kb):
                    lst += lv_pair(b, side_best(b, i))
                for i in range(m, ka):
                    lst += lv_pair(a, side_best(a, i))
                return ":".join(lst)
            for i in range(nparts):
                total += ln[i]
            total += nparts - 1
            res = PyUnicode_New(total, 127)
            dst = <char*>PyUnicode_DATA(<PyObject*>res)
            for i in range(nparts):
                if i:
                    dst[0] = c':'
                    dst += 1
                memcpy(dst, ptr[i], ln[i])
                dst += ln[i]
            return res
        finally:
            PyMem_Free(ptr)
            PyMem_Free(ln)

    def top(self, n=10):
        """``(bid_px, bid_sz, ask_px, ask_sz)`` of the best ``n`` levels as float64 arrays."""
        cdef Py_ssize_t kb = count_arg(n, self._b.n), ka = count_arg(n, self._a.n), i
        cdef double[::1] bp, bs, ap, as_
        out = (np.empty(kb, dtype=np.float64), np.empty(kb, dtype=np.float64),
               np.empty(ka, dtype=np.float64), np.empty(ka, dtype=np.float64))
        bp = out[0]
        bs = out[1]
        ap = out[2]
        as_ = out[3]
        for i in range(kb):
            bp[i] = side_best(&self._b, i).px
            bs[i] = side_best(&self._b, i).sz
        for i in range(ka):
            ap[i] = side_best(&self._a, i).px
            as_[i] = side_best(&self._a, i).sz
        return out

    def depth(self, side, levels=10):
        """Total size (venue units) of the best ``levels`` levels of a side."""
        cdef Side* s = self._side(side)
        cdef Py_ssize_t k = count_arg(levels, s.n)
        return side_sum(s, s.n - k, s.n)

    def depth_within_bps(self, side, bps):
        """Total size (venue units) of the levels priced within ``bps`` of the mid on a side:
        bids at or above ``mid (1 - bps/1e4)``, asks at or below ``mid (1 + bps/1e4)``.

        The cost features call this on every tick, so the band of the last ``bps`` asked is
        tracked: :meth:`apply_delta` adds each in-band size change to its running sum, and a
        moved mid only adds or takes off the levels between the old and the new edge. A full
        re-sum happens after a snapshot, for another ``bps``, and every 1,000 uses (float drift).
        """
        cdef double b, mid
        if not (math.isfinite(bps) and bps >= 0):
            raise ValueError(f"bps={bps!r} must be a finite number >= 0")
        b = bps
        if not (self._b.n and self._a.n):
            return 0.0
        mid = 0.5 * (side_best(&self._b, 0).px + side_best(&self._a, 0).px)
        if side is "bid" or side == "bid":
            return self._band_depth(0, mid, b)
        if side is "ask" or side == "ask":
            return self._band_depth(1, mid, b)
        raise ValueError(f"side={side!r} is not one of 'bid', 'ask'")

    cdef double _band_depth(self, int i, double mid, double bps) noexcept:
        """``depth_within_bps`` of side ``i`` (0 bids, 1 asks)."""
        cdef Side* s = &self._b if i == 0 else &self._a
        cdef int64_t lim, old_lim
        cdef Py_ssize_t start, old_start
        cdef double tot
        # keys at or above lim are the levels in the band (bids: tick >= the bid edge; asks:
        # -tick >= -(ask edge))
        if i == 0:
            lim = bid_edge(mid * (1 - bps / 1e4) * self._scale - 1e-6)
        else:
            lim = ask_edge(mid * (1 + bps / 1e4) * self._scale + 1e-6)
        old_lim = self._blim[i]
        if lim == old_lim and self._bbps[i] == bps and self._buses < BAND_RESUM:
            tot = self._bsum[i]  # same edge: the running sum is the answer
            self._buses += 1
            return tot if tot > 0.0 else 0.0
        start = side_lower(s, lim)  # positions start.. are the levels in the band
        if self._bbps[i] == bps and old_lim != NO_BAND and self._buses < BAND_RESUM:
            tot = self._bsum[i]
            old_start = side_lower(s, old_lim)
            if start < old_start:
                tot += side_sum(s, start, old_start)
            elif start > old_start:
                tot -= side_sum(s, old_start, start)
            self._buses += 1
        else:
            tot = side_sum(s, start, s.n)  # best first, as before
            self._bbps[i] = bps
            self._buses = 0
        self._blim[i] = lim
        self._bsum[i] = tot
        return tot if tot > 0.0 else 0.0

    def tick_values(self, double bps, levels=5):
        """The book's per-tick feature inputs in one call (the cost features' hot path).

        Returns ``(best_bid, best_bid_size, best_ask, best_ask_size, depth_within_bps("bid",
        bps), depth_within_bps("ask", bps), depth("bid", levels), depth("ask", levels))``;
        the first six NaN when a side is empty. ``bps`` (>= 0) and ``levels`` (>= 1) are not
        validated here; sums run best first, as in :meth:`depth` and :meth:`depth_within_bps`.
        """
        cdef Side* b = &self._b
        cdef Side* a = &self._a
        cdef Py_ssize_t kb, ka
        cdef Lv* x
        cdef Lv* y
        cdef double mid
        if levels is None:
            raise TypeError("bad operand type for unary -: 'NoneType'")
        kb = count_arg(levels, b.n)
        ka = count_arg(levels, a.n)
        if not (b.n and a.n):
            return (NAN, NAN, NAN, NAN, NAN, NAN, side_sum(b, b.n - kb, b.n),
                    side_sum(a, a.n - ka, a.n))
        x = side_best(b, 0)
        y = side_best(a, 0)
        mid = 0.5 * (x.px + y.px)
        return (x.px, x.sz, y.px, y.sz, self._band_depth(0, mid, bps),
                self._band_depth(1, mid, bps), side_sum(b, b.n - kb, b.n),
                side_sum(a, a.n - ka, a.n))

    def imbalance(self, levels=5):
        """``(Q_bid - Q_ask) / (Q_bid + Q_ask)`` over the best ``levels`` levels, in [-1, 1]."""
        cdef double qb = self.depth("bid", levels)
        cdef double qa = self.depth("ask", levels)
        cdef double tot = qb + qa
        return (qb - qa) / tot if tot > 0 else 0.0

    def snapshot_levels(self, n=None):
        """``(bids, asks)`` best-first ``(price, size)`` lists, for comparisons and plots."""
        return self.levels("bid", n), self.levels("ask", n)

    # -- walk the book ------------------------------------------------------------------
    def walk(self, side, amount, unit="base"):
        r"""Fill a market order of ``amount`` (in ``unit``) against the book.

        ``side="buy"`` consumes asks, ``"sell"`` consumes bids. ``unit`` is ``"base"``
        (base currency), ``"contracts"`` (venue size units) or ``"usd"`` (quote notional).
        Without an instrument, venue size units are taken as base units.

        Notes
        -----
        With :math:`c` the contract size (1 for venues sized in base), a level of size
        :math:`s` at price :math:`p` holds :math:`b = c\,s` base and :math:`q = c\,s\,p` quote
        on a linear instrument, :math:`b = c\,s/p` and :math:`q = c\,s` on an inverse one.
        Levels are taken best first until the order's amount is reached, the last one in part.
        """
        cdef Side* d
        cdef double sgn, amt, mid, c, rem, scale, tol, ssum, psum, last, p, s, m
        cdef double base, notional, touch, vwap, slip, half, depth_c, slip_t
        cdef bint inverse
        cdef int mode
        cdef Py_ssize_t n, pos
        cdef Lv* L
        if side is "buy" or side == "buy":
            d = &self._a
            sgn = 1.0
        elif side is "sell" or side == "sell":
            d = &self._b
            sgn = -1.0
        else:
            raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
        if unit != "usd" and unit != "base" and unit != "contracts":
            raise ValueError(f"unit={unit!r} is not one of 'base', 'contracts', 'usd'")
        if not (isinstance(amount, (int, float)) and math.isfinite(amount) and amount >= 0):
            raise ValueError(f"amount={amount!r} must be a finite number >= 0")
        amt = float(amount)
        if self._b.n and self._a.n:
            mid = 0.5 * (side_best(&self._b, 0).px + side_best(&self._a, 0).px)
        else:
            mid = NAN
        if not d.n:
            return _tuple_new(Fill, (side, amt, unit, 0.0, 0.0, 0.0, NAN, 0, amt, mid, NAN,
                                     NAN, NAN, NAN, NAN, NAN))
        inst = self.instrument
        c = 1.0
        inverse = False
        if inst is not None and inst.sized_in_contracts:
            c = inst.contract_size
            inverse = inst.contract_type != "linear"
        # The walk measures the order in one metric per level: s (contracts; base on a linear
        # instrument; usd on an inverse one), s*p (usd, linear) or s/p (base, inverse), with
        # the amount divided by c where the unit is base or usd.
        if unit == "contracts":
            mode = 0
            rem = amt
            scale = 1.0
        else:
            mode = (2 if inverse else 0) if unit == "base" else (0 if inverse else 1)
            rem = amt / c
            scale = c
        tol = 1e-12 * (amt if amt > 1.0 else 1.0) / scale
        ssum = 0.0  # sum of s
        psum = 0.0  # sum of s*p (linear) or s/p (inverse)
        n = 0
        last = NAN
        p = NAN
        pos = d.n - 1
        while pos >= 0:
            L = side_at(d, pos)
            pos -= 1
            p = L.px
            s = L.sz
            m = s if mode == 0 else (s * p if mode == 1 else s / p)
            n += 1
            if m >= rem - tol:  # the last level, taken in part (or exactly)
                if m > rem:
                    s *= rem / m
                ssum += s
                psum += s / p if inverse else s * p
                rem = 0.0
                last = p
                break
            rem -= m
            ssum += s
            psum += s / p if inverse else s * p
        else:
            last = p
        if inverse:
            base = c * psum
            notional = c * ssum
        else:
            base = c * ssum
            notional = c * psum
        touch = side_best(d, 0).px
        vwap = notional / base if base > 0 else NAN
        if mid != mid:  # NaN
            slip = half = depth_c = NAN
        else:
            slip = sgn * (vwap - mid) / mid * 1e4
            half = sgn * (touch - mid) / mid * 1e4
            depth_c = sgn * (vwap - touch) / mid * 1e4
        slip_t = sgn * (vwap - touch) / touch * 1e4
        return _tuple_new(Fill, (side, amt, unit, ssum, base, notional, vwap, n, rem * scale,
                                 mid, touch, last, slip, slip_t, half, depth_c))

    def __reduce__(self):
        """Pickling and :mod:`copy`: the book is rebuilt from its levels' venue strings (the
        copy is independent; its tracked depth bands start afresh)."""
        return (_rebuild, (type(self), self.instrument, self._scale, self._max,
                           self.level_strings("bid", None), self.level_strings("ask", None),
                           (self.venue, self.symbol, self.seq, self.stale, self.updates,
                            self.last_exch_ts_ns, self.last_recv_ts_ns, self._version)))

    def __repr__(self):
        state = "stale" if self.stale else ("crossed" if self.crossed else "valid")
        return (f"OrderBook({self.venue}:{self.symbol} {state} bid={self.best_bid} "
                f"ask={self.best_ask} levels={self.n_bids}/{self.n_asks})")


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        pass
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    int PyMember_SetOne(char*, PyMemberDef*, PyObject*) except -1
    bint PyObject_TypeCheck(object, PyObject*)
    PyObject* PyMemberDescr_Type_ptr "(PyObject*)&PyMemberDescr_Type"


cdef dict _SLOTS = {}  # class -> tuple of the member descriptors of its fields, in order


def new_frozen(cls, args):
    """``cls(*args)`` for a frozen, slotted dataclass whose ``__init__`` only sets its fields
    (the event types): the slots are filled in C, a fraction of the generated ``__init__``'s
    time. ``args`` is a tuple with one value per field, in field order."""
    cdef tuple descrs = _SLOTS.get(cls)
    cdef Py_ssize_t i
    if descrs is None:
        import dataclasses

        descrs = tuple(cls.__dict__.get(f.name) for f in dataclasses.fields(cls))
        for d in descrs:
            if not PyObject_TypeCheck(d, PyMemberDescr_Type_ptr):
                raise TypeError(f"{cls.__name__} is not a slotted dataclass")
        _SLOTS[cls] = descrs
    if type(args) is not tuple or len(<tuple>args) != len(descrs):
        raise TypeError(f"{cls.__name__} takes {len(descrs)} values, got {args!r}")
    obj = cls.__new__(cls)
    for i in range(len(descrs)):
        PyMember_SetOne(<char*><PyObject*>obj,
                        (<PyMemberDescrObject*><PyObject*>descrs[i]).d_member,
                        <PyObject*>(<tuple>args)[i])
    return obj


# -- levels read straight from a frame's text ---------------------------------------------------
cdef enum:
    MAX_KEYS = 4  # at most this many keys a scan


cdef inline bint plain_byte(unsigned char c) noexcept nogil:
    """A byte a plain JSON string may hold here: printable ASCII but ``"`` and ``\\``."""
    return 0x20 <= c <= 0x7e and c != 34 and c != 92


cdef inline Py_ssize_t string_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """``b[i]`` is ``"``: the index after the closing quote of a plain string, else -1 (an
    escape, a control or non-ASCII byte, or no closing quote)."""
    i += 1
    while i < n and plain_byte(b[i]):
        i += 1
    if i < n and b[i] == 34:
        return i + 1
    return -1


@cython.final
cdef class RawLevels:
    """The levels of one JSON array ``[["price", "size", ...], ...]`` of a frame, read in
    place: the offsets of each level's price and size strings in the frame's bytes.

    A read-only sequence of the levels as ``orjson`` gives them (lists of strings; with
    ``pairs``, ``(price, size)`` tuples, as :func:`string_pairs` returns), made on first use.
    The compiled book applies it straight from the bytes, making strings only for the levels
    it keeps. Made by :func:`scan_levels`.
    """

    cdef object _src                 # the frame (str or bytes): owns the bytes
    cdef const unsigned char* _buf
    cdef Py_ssize_t* _off            # per level: price start, end, size start, end
    cdef Py_ssize_t _n
    cdef Py_ssize_t _cap
    cdef Py_ssize_t _start           # the array's bytes: [_start, _end)
    cdef Py_ssize_t _end
    cdef bint _pairs
    cdef object _items

    def __dealloc__(self):
        PyMem_Free(self._off)

    cdef int _push(self, Py_ssize_t ps, Py_ssize_t pe, Py_ssize_t ss, Py_ssize_t se) except -1:
        cdef Py_ssize_t cap
        cdef void* q
        if self._n == self._cap:
            cap = 64 if self._cap == 0 else 2 * self._cap
            q = PyMem_Realloc(self._off, 4 * cap * sizeof(Py_ssize_t))
            if q == NULL:
                raise MemoryError()
            self._off = <Py_ssize_t*>q
            self._cap = cap
        q = self._off + 4 * self._n
        (<Py_ssize_t*>q)[0] = ps
        (<Py_ssize_t*>q)[1] = pe
        (<Py_ssize_t*>q)[2] = ss
        (<Py_ssize_t*>q)[3] = se
        self._n += 1
        return 0

    cdef list _list(self):
        if self._items is None:
            items = orjson.loads(self._src[self._start:self._end])
            if self._pairs:
                items = [(lv[0], lv[1]) for lv in items]
            self._items = items
        return self._items

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        return self._list()[i]

    def __iter__(self):
        return iter(self._list())

    def __eq__(self, other):
        if type(other) is RawLevels:
            other = (<RawLevels>other)._list()
        return self._list() == other

    __hash__ = None

    def __repr__(self):
        return f"RawLevels({self._list()!r})"

    def __reduce__(self):
        return (list, (self._list(),))  # unpickled as the plain list of levels

    def index(self, value, *args):
        return self._list().index(value, *args)

    def count(self, value):
        return self._list().count(value)

    def __reversed__(self):
        return reversed(self._list())

    def __contains__(self, value):
        return value in self._list()


cdef inline Py_ssize_t next_string(const unsigned char* b, Py_ssize_t p, Py_ssize_t n) noexcept nogil:
    """The index after the plain string starting at ``b[p]``, else -1 (no string there)."""
    if p >= n or b[p] != 34:
        return -1
    return string_end(b, p, n)


cdef Py_ssize_t scan_array(RawLevels r, const unsigned char* b, Py_ssize_t p,
                           Py_ssize_t n) except -2:
    """Read the level array starting at ``b[p] == '['`` into ``r``: the index after its
    ``]``, or -1 when it is not exactly ``[["s","s"(,"s")*](,[...])*]`` in compact JSON."""
    cdef Py_ssize_t q, ps, ss
    p += 1
    if p < n and b[p] == 93:  # []
        return p + 1
    while True:
        if p >= n or b[p] != 91:
            return -1
        ps = p + 1
        p = next_string(b, ps, n)  # the price
        if p < 0 or p >= n or b[p] != 44:
            return -1
        ss = p + 1
        q = next_string(b, ss, n)  # the size
        if q < 0:
            return -1
        r._push(ps + 1, p - 1, ss + 1, q - 1)
        p = q
        while p < n and b[p] == 44:  # more strings of the level (OKX: "0", the order count)
            p = next_string(b, p + 1, n)
            if p < 0:
                return -1
        if p >= n or b[p] != 93:
            return -1
        p += 1
        if p < n and b[p] == 44:
            p += 1
            continue
        if p < n and b[p] == 93:
            return p + 1
        return -1


def scan_levels(frame, tuple keys):
    """Find the level arrays of ``keys`` in a JSON frame and cut them out of its text.

    Returns ``(rest, levels)``: ``rest`` the frame (same type) with the array of ``keys[k]``
    replaced by the integer ``-(k + 1)``, for ``orjson`` to read the few other fields, and
    ``levels[k]`` a :class:`RawLevels` over that array (None when the key has no array).
    Returns None, for the caller to parse the frame the ordinary way, unless the frame is a
    ``str`` of ASCII or ``bytes`` whose strings are all plain (printable ASCII, no escape),
    each key's array is exactly ``[["s","s",...],...]`` of such strings in compact JSON, and
    no key holds two arrays. The caller checks that each ``-(k + 1)`` is where it expects the
    levels (a key of a nested object is cut too).
    """
    cdef const unsigned char* b
    cdef Py_ssize_t n, i, j, e, m, k, nk = len(keys), total, pos, w
    cdef Py_ssize_t st[MAX_KEYS]
    cdef Py_ssize_t en[MAX_KEYS]
    cdef Py_ssize_t order[MAX_KEYS]
    cdef const char* kp[MAX_KEYS]
    cdef Py_ssize_t kn[MAX_KEYS]
    cdef RawLevels r
    cdef bint is_str = type(frame) is str
    cdef char* dst
    if nk > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys")
    if is_str:
        if not PyUnicode_IS_COMPACT_ASCII(<PyObject*>frame):
            return None
        b = <const unsigned char*>PyUnicode_DATA(<PyObject*>frame)
        n = PyUnicode_GET_LENGTH(<PyObject*>frame)
    elif type(frame) is bytes:
        b = <const unsigned char*>PyBytes_AS_STRING(frame)
        n = PyBytes_GET_SIZE(frame)
    else:
        return None
    for k in range(nk):  # the keys' own ASCII bytes (no encoding a frame)
        key = keys[k]
        if not (type(key) is str and PyUnicode_IS_COMPACT_ASCII(<PyObject*>key)):
            raise ValueError(f"keys must be ASCII str, not {key!r}")
        kp[k] = <const char*>PyUnicode_DATA(<PyObject*>key)
        kn[k] = PyUnicode_GET_LENGTH(<PyObject*>key)
    found = [None] * nk
    m = 0
    i = 0
    while i < n:
        if b[i] != 34:
            i += 1
            continue
        j = string_end(b, i, n)
        if j < 0:
            return None
        if j + 1 < n and b[j] == 58 and b[j + 1] == 91:  # "key":[
            for k in range(nk):
                if kn[k] == j - i - 2 and memcmp(b + i + 1, kp[k], kn[k]) == 0:
                    if found[k] is not None:
                        return None
                    r = RawLevels.__new__(RawLevels)
                    r._src = frame
                    r._buf = b
                    r._start = j + 1
                    e = scan_array(r, b, j + 1, n)
                    if e < 0:
                        return None
                    r._end = e
                    found[k] = r
                    st[m] = j + 1
                    en[m] = e
                    order[m] = k
                    m += 1
                    j = e
                    break
        i = j
    if m == 0:
        return None
    total = n
    for k in range(m):  # the arrays are in frame order; each becomes -(k + 1)
        total -= en[k] - st[k]
        total += 2
    out = PyUnicode_New(total, 127) if is_str else PyBytes_FromStringAndSize(NULL, total)
    dst = <char*>(PyUnicode_DATA(<PyObject*>out) if is_str else PyBytes_AS_STRING(out))
    pos = 0
    w = 0
    for k in range(m):
        memcpy(dst + w, b + pos, st[k] - pos)
        w += st[k] - pos
        dst[w] = 45  # -
        dst[w + 1] = 49 + order[k]  # 1, 2, ...
        w += 2
        pos = en[k]
    memcpy(dst + w, b + pos, n - pos)
    return out, tuple(found)


def _raw_pairs(RawLevels levels, str side):
    """:func:`string_pairs` of a :class:`RawLevels`: the numbers checked from the bytes."""
    cdef Py_ssize_t i
    cdef const Py_ssize_t* o
    cdef const char* b = <const char*>levels._buf
    cdef double p, s
    for i in range(levels._n):
        o = levels._off + 4 * i
        if not ts_parse_decimal(b + o[0], o[1] - o[0], &p):
            ps = ascii_str(b + o[0], o[1] - o[0])
            p = slow_float(<PyObject*>ps, side, i, levels[i], "price_nan")
        if not ts_parse_decimal(b + o[2], o[3] - o[2], &s):
            ss = ascii_str(b + o[2], o[3] - o[2])
            s = slow_float(<PyObject*>ss, side, i, levels[i], "size_nan")
        if not (0.0 < p < INF):
            raise level_error(side, i, levels[i], "price", p)
        if not (0.0 <= s < INF):
            raise level_error(side, i, levels[i], "size", s)
    out = RawLevels.__new__(RawLevels)
    (<RawLevels>out)._src = levels._src
    (<RawLevels>out)._buf = levels._buf
    (<RawLevels>out)._start = levels._start
    (<RawLevels>out)._end = levels._end
    (<RawLevels>out)._pairs = True
    if levels._n:
        (<RawLevels>out)._off = <Py_ssize_t*>PyMem_Malloc(4 * levels._n * sizeof(Py_ssize_t))
        if (<RawLevels>out)._off == NULL:
            raise MemoryError()
        memcpy((<RawLevels>out)._off, levels._off, 4 * levels._n * sizeof(Py_ssize_t))
        (<RawLevels>out)._n = levels._n
        (<RawLevels>out)._cap = levels._n
    return out


def string_pairs(levels, side="bid"):
    """``levels`` as a new list of ``(price_str, size_str)`` pairs, each checked first: a list
    ``[price_str, size_str, ...]`` of two strings, the price a finite number > 0 and the size
    a finite number >= 0 (the shape a venue sending its levels as JSON strings must keep, e.g.
    the GoQuant relay). Raises :class:`InvalidLevelError` naming the first level that is not.
    """
    cdef PyObject* sp
    cdef PyObject* lv
    cdef PyObject* ps
    cdef PyObject* ss
    cdef Py_ssize_t i, n
    cdef double p, s
    if type(levels) is RawLevels:
        return _raw_pairs(<RawLevels>levels, side)
    if type(levels) is not list:
        raise TypeError(f"levels must be a list, not {type(levels).__name__}")
    sp = <PyObject*>levels
    n = PyList_GET_SIZE(sp)
    out = PyList_New(n)
    for i in range(n):
        if i >= PyList_GET_SIZE(sp):
            raise RuntimeError("levels changed while they were checked")
        item = <object>PyList_GET_ITEM(sp, i)  # a strong reference while code may run
        lv = <PyObject*>item
        t = PyTuple_New(2)  # allocated first: a collection it starts may run finalizers
        if not PyList_Check(lv) or PyList_GET_SIZE(lv) < 2:
            raise level_error(side, i, item, "strings", None)
        ps = PyList_GET_ITEM(lv, 0)
        ss = PyList_GET_ITEM(lv, 1)
        if not (PyUnicode_Check(ps) and PyUnicode_Check(ss)):
            raise level_error(side, i, item, "strings", None)
        _incref(ps)
        _incref(ss)
        PyTuple_SET_ITEM(t, 0, ps)  # the pair owns the strings from here on
        PyTuple_SET_ITEM(t, 1, ss)
        if not fast_float(ps, &p):
            p = slow_float(ps, side, i, item, "price_nan")
        if not fast_float(ss, &s):
            s = slow_float(ss, side, i, item, "size_nan")
        if not (0.0 < p < INF):
            raise level_error(side, i, item, "price", p)
        if not (0.0 <= s < INF):
            raise level_error(side, i, item, "size", s)
        _incref(<PyObject*>t)
        PyList_SET_ITEM(out, i, <PyObject*>t)
    return out


def _rebuild(cls, instrument, price_scale, max_levels, bids, asks, state):
    """Unpickle an :class:`OrderBook` (see ``OrderBook.__reduce__``)."""
    cdef OrderBook ob = cls(instrument, price_scale=price_scale, max_levels=max_levels)
    ob.apply_snapshot(bids, asks)
    (ob.venue, ob.symbol, ob.seq, ob.stale, ob.updates, ob.last_exch_ts_ns,
     ob.last_recv_ts_ns) = state[:7]
    ob._version = state[7]
    return ob


# the public home of the class (as numpy's set_module does): docs, reprs and pickles name it
OrderBook.__module__ = "tradesim_nb.book"


cdef int _fit(Side* s, Py_ssize_t n) except -1:
    """Empty ``s`` with room for ``n`` levels; arrays far larger than needed are given back."""
    if s.cap > SHRINK_CAP and s.cap > 4 * n:
        side_free_arrays(s)
    return side_reserve(s, n)


cdef inline void _take(Side* s, PyObject** dead) noexcept:
    """Remove the best level of ``s``, parking its two strings in ``dead``."""
    cdef Lv* L = side_best(s, 0)
    dead[0] = L.ps
    dead[1] = L.ss
    L.ps = NULL
    L.ss = NULL
    s.free[s.nfree] = s.slot[s.n - 1]
    s.nfree += 1
    s.n -= 1


# -- the per-tick scoring of TradeSimulator.estimate -----------------------------------------
cdef extern from "math.h":
    double c_log "log"(double) nogil
    double c_exp "exp"(double) nogil

cdef enum:
    SC_MAXF = 8   # features a row at most
    SC_MAXQ = 16  # quantiles at most


cdef inline double sc_max1(double v) noexcept nogil:
    """``max(v, 1.0)`` as Python computes it (a NaN ``v`` stays NaN)."""
    return 1.0 if 1.0 > v else v


cdef inline double sc_dot(double b0, const double* c, const double* x, int p) noexcept nogil:
    """``b0 + sum(map(mul, c, x))`` with the arithmetic of Python's ``sum``."""
    cdef ts_sum acc
    cdef int i
    ts_sum_init(&acc)
    for i in range(p):
        ts_sum_add(&acc, c[i] * x[i])
    return b0 + ts_sum_get(&acc)


@cython.final
cdef class Scorer:
    """The scoring step of :meth:`tradesim_nb.simulator.TradeSimulator.estimate` in C, value
    for value the plain-Python one: both order-feature rows (:func:`~tradesim_nb.features.
    order_rows`), the linear slippage mean and quantiles (sorted), whether the row is outside
    the training range, the maker/taker logit, and the passive blend.

    Made once per pair of models (``Scorer(slippage, maker, indices, cap, flow_unit)``,
    ``indices`` the positions in a market row of ask depth, bid depth, bid touch, ask touch,
    volatility, imbalance, 1 s and 10 s flow and spread).
    """

    cdef int p, pm, nq, nr
    cdef double b0, mb0, cap, unit
    cdef double c[SC_MAXF]
    cdef double mc[SC_MAXF]
    cdef double qb[SC_MAXQ]
    cdef double qc[SC_MAXQ][SC_MAXF]
    cdef double lo[SC_MAXF]
    cdef double hi[SC_MAXF]
    cdef int ix[9]

    def __init__(self, slippage, maker, indices, double cap, double flow_unit):
        cdef int i, j
        coef = [float(v) for v in slippage.coef]
        mcoef = [float(v) for v in maker.coef]
        qs = [[float(v) for v in row] for row in slippage.quantile_coef]
        rng = list(slippage.feature_range)
        if not (len(coef) == 6 and len(mcoef) == 6 and 1 <= len(qs) <= SC_MAXQ
                and all(len(r) == 6 for r in qs) and len(rng) in (0, 6) and len(indices) == 9):
            raise ValueError("Scorer needs 6 slippage and 6 maker features, 1..16 quantiles")
        self.p = 6
        self.pm = 6
        self.nq = len(qs)
        self.nr = len(rng)
        self.b0 = float(slippage.intercept)
        self.mb0 = float(maker.intercept)
        self.cap = cap
        self.unit = flow_unit
        for i in range(6):
            self.c[i] = coef[i]
            self.mc[i] = mcoef[i]
        for j in range(self.nq):
            self.qb[j] = float(slippage.quantile_intercept[j])
            for i in range(6):
                self.qc[j][i] = qs[j][i]
        for i in range(self.nr):
            self.lo[i] = float(rng[i][0])
            self.hi[i] = float(rng[i][1])
        for i in range(9):
            self.ix[i] = int(indices[i])

    def score(self, row, double s, double notional, double ln, double walk_bps, bint market):
        """``(slippage_bps, quantiles, extrapolated, maker_share)`` of one order on a market
        ``row``: as ``estimate`` computes them in Python (quantiles sorted, then blended with
        the passive fill when ``market`` is False); None when a quantile is NaN (Python's
        sort of NaNs decides then)."""
        cdef double r[9]
        cdef double xs[SC_MAXF]
        cdef double xm[SC_MAXF]
        cdef double q[SC_MAXQ]
        cdef double own_depth, own, opp, sod, mean, z, e, share = 0.0, passive, t
        cdef int i, j, k
        cdef bint ext = False
        for i in range(9):
            r[i] = row[self.ix[i]]
        if s > 0:
            own_depth, own, opp = r[0], r[2], r[3]
        else:
            own_depth, own, opp = r[1], r[3], r[2]
        sod = notional / own_depth if own_depth > 0 else self.cap
        xs[0] = walk_bps
        xs[1] = ln
        xs[2] = sod if sod < self.cap else self.cap
        xs[3] = r[4]
        xs[4] = s * r[6] / self.unit
        xs[5] = s * r[5]
        mean = sc_dot(self.b0, self.c, xs, self.p)
        for j in range(self.nq):
            q[j] = sc_dot(self.qb[j], self.qc[j], xs, self.p)
            if q[j] != q[j]:
                return None
        for j in range(1, self.nq):  # insertion sort (no NaN: any stable sort agrees)
            t = q[j]
            k = j - 1
            while k >= 0 and t < q[k]:
                q[k + 1] = q[k]
                k -= 1
            q[k + 1] = t
        for i in range(self.nr):
            if xs[i] < self.lo[i] or xs[i] > self.hi[i]:
                ext = True
                break
        if not market:
            xm[0] = ln
            xm[1] = c_log(sc_max1(own))
            xm[2] = c_log(sc_max1(opp))
            xm[3] = r[4]
            xm[4] = s * r[7] / self.unit
            xm[5] = xs[5]
            z = sc_dot(self.mb0, self.mc, xm, self.pm)
            if z >= 0:
                share = 1.0 / (1.0 + c_exp(-z))
            else:
                e = c_exp(z)
                share = e / (1.0 + e)
            passive = -0.5 * r[8]
            mean = share * passive + (1.0 - share) * mean
            for j in range(self.nq):
                q[j] = share * passive + (1.0 - share) * q[j]
        qt = PyTuple_New(self.nq)
        for j in range(self.nq):
            o = PyFloat_FromDouble(q[j])
            _incref(<PyObject*>o)
            PyTuple_SET_ITEM(qt, j, <PyObject*>o)
        return (mean, qt, ext, share)
