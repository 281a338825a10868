"""The JSON of Socket.IO packets: written by orjson, read by python-engineio's decoder.

Every emit encodes its payload once (a broadcast once for all its sockets):
the standard library's encoder takes about 240 µs for the PRESENCE of a
200-user room, which every connect sends, and orjson about 30 µs. Reading
stays with python-engineio's json (the standard library's decoder, refusing
integers of over 100 digits), so what a client may send is unchanged (R36).
"""

import json

import orjson
from engineio import json as engineio_json

loads = engineio_json.loads


def dumps(value, **_options) -> str:
    """Compact JSON, as `json.dumps(value, separators=(",", ":"))` writes it, non-ASCII unescaped.

    Integer dict keys become strings as the standard library makes them; what
    orjson refuses (integers past 64 bits) the standard library writes.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))
