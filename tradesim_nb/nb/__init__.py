"""Notebook dashboards (ipywidgets + Bokeh through jupyter_bokeh)."""
