"""Socket.IO packets are written by orjson: the same JSON values the standard library writes."""

import json

from hypothesis import given
from hypothesis import strategies as st

from watchparty.realtime import packet_json
from watchparty.realtime.packets import ClientPacket

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.one_of(st.text(), st.integers()), inner)),
    max_leaves=30,
)


def _standard(value) -> str:
    return json.dumps(value, separators=(",", ":"))


@given(values)
def test_orjson_writes_what_the_standard_library_reads_back_the_same(value):
    assert json.loads(packet_json.dumps(value)) == json.loads(_standard(value))


def test_what_orjson_refuses_the_standard_library_writes():
    huge = {"n": 2**80, 7: "seven"}
    assert packet_json.dumps(huge) == _standard(huge) == '{"n":1208925819614629174706176,"7":"seven"}'


def test_an_event_packet_is_compact_and_keeps_non_ascii_as_utf8():
    encoded = ClientPacket(
        data=["CHAT", {"message": "héllo ✓", "user": {"id": 3}}], namespace="/room"
    ).encode()
    assert encoded == '2/room,["CHAT",{"message":"héllo ✓","user":{"id":3}}]'


def test_client_packets_are_still_read_by_the_standard_decoder():
    packet = ClientPacket(encoded_packet='2/room,["SEEK",{"time":1e400}]')
    assert packet.data == ["SEEK", {"time": float("inf")}]  # then refused by the payload's model (R36)
