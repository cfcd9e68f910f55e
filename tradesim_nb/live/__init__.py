"""The live layer: asyncio client, local venue server, recording while live.

Nothing here is imported by ``import tradesim_nb``; websockets loads with this package's
client and server modules.
"""
