"""Third-party E2SM bytes from ``../shared/data/e2-vectors`` through the project's KPM and RC codecs.

* srsRAN RIC control requests (E2AP RICcontrolRequest): the E2SM-RC header and message octets are taken
  out of the E2AP PDU with pycrate, decoded, re-encoded byte-identically, and read field by field. Both
  the slice-level PRB quota (style 2 action 6) and the handover (style 3 action 1) decode completely:
  the subset's control message format 1 is the generic RAN parameter tree.
* ONF KPM v2 header/message (synthetic, KPM v2.0x): the v03.00 codec does not decode KPM v2 (its
  TimeStamp is 4 octets, format 1 has other fields); both raise a ``DecodeError`` that says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pycrate_asn1dir import E2AP

from dnt.e2 import e2sm_asn, kpm, rc
from dnt.e2.e2ap_ies import PlmnId
from dnt.errors import DecodeError

pytestmark = [pytest.mark.shared, pytest.mark.integration]

RIC_CONTROL_HEADER_IE = 22  # id-RICcontrolHeader (E2AP §9.2.20)
RIC_CONTROL_MESSAGE_IE = 23  # id-RICcontrolMessage (E2AP §9.2.21)


def _hex(vectors: Path, name: str) -> bytes:
    for line in (vectors / f"{name}.txt").read_text().splitlines():
        if line.startswith("hex:"):
            return bytes.fromhex(line[4:].strip())
    raise AssertionError(f"{name}: no hex line")


def _control_octets(vectors: Path, name: str) -> tuple[bytes, bytes]:
    pdu = E2AP.E2AP_PDU_Descriptions.E2AP_PDU
    pdu.from_aper(_hex(vectors, name))
    kind, body = pdu.get_val()
    assert kind == "initiatingMessage" and body["procedureCode"] == 4  # RICcontrol
    ies = {ie["id"]: ie["value"][1] for ie in body["value"][1]["protocolIEs"]}
    return ies[RIC_CONTROL_HEADER_IE], ies[RIC_CONTROL_MESSAGE_IE]


def test_srsran_slice_prb_quota_control_decodes_and_re_encodes(e2_vectors_dir: Path) -> None:
    header_octets, message_octets = _control_octets(e2_vectors_dir, "srsran_riccontrolrequest_rc_slice_prb_quota")
    header = rc.decode_control_header(header_octets)
    assert header == rc.RcControlHeader(rc.UeIdGnbDu(0), style_type=2, action_id=6)
    assert rc.encode_control_header(header) == header_octets
    message = rc.decode_control_message(message_octets)
    assert rc.encode_control_message(message) == message_octets
    (quota,) = rc.parse_slice_prb_quota(message)
    assert quota.plmn == PlmnId("123", "45")
    assert quota.sst == 22
    assert quota.sd == 33
    assert quota.min_prb_ratio == 10
    assert quota.max_prb_ratio == 30
    assert quota.dedicated_prb_ratio == 100
    # the nesting and ids of RC §8.4.3.6 (4 is unused): 1 → 2 → {3 → 5 → 6 → {7, 8 → {9, 10}}, 11, 12, 13}
    group = message.get(1).value.items[0].get(2).value  # type: ignore[union-attr]
    assert [p.param_id for p in group.params] == [3, 11, 12, 13]
    member = group.get(3).value.get(5).value.items[0].get(6).value
    assert [p.param_id for p in member.params] == [7, 8]
    assert [p.param_id for p in member.get(8).value.params] == [9, 10]
    assert all(not p.value.key_flag for p in group.params[1:])  # leaves are ranP-Choice-ElementFalse
    # and the project's builder produces the same octets
    assert rc.control_slice_prb_quota([quota]) == (header_octets, message_octets)


def test_srsran_handover_control_decodes_and_re_encodes(e2_vectors_dir: Path) -> None:
    header_octets, message_octets = _control_octets(e2_vectors_dir, "srsran_riccontrolrequest_rc_handover")
    header = rc.decode_control_header(header_octets)
    assert (header.style_type, header.action_id, header.decision) == (3, 1, None)
    ue = header.ue_id
    assert isinstance(ue, rc.UeIdGnb)
    assert ue.amf_ue_ngap_id == 7 and ue.cu_ue_f1ap_ids == (1,)
    assert ue.guami == rc.Guami(PlmnId("001", "01"), 0, 0, 0)
    assert rc.encode_control_header(header) == header_octets
    message = rc.decode_control_message(message_octets)
    assert rc.encode_control_message(message) == message_octets
    # Target Primary Cell ID (1) → CHOICE Target Cell (2) → NR Cell (3) → NR CGI (4, an APER NR-CGI in octets)
    leaf = message.get(1).value.get(2).value.get(3).value.get(4).value  # type: ignore[union-attr]
    assert isinstance(leaf, rc.RanElement) and isinstance(leaf.value, bytes)
    cgi = e2sm_asn.decode("kpm", "NR-CGI", leaf.value)
    assert PlmnId.from_bytes(cgi["pLMNIdentity"]) == PlmnId("001", "01")
    assert int.from_bytes(cgi["nRCellIdentity"][0], "big") >> 4 == 0x19B1
    with pytest.raises(DecodeError, match="RRM Policy Ratio List"):
        rc.parse_slice_prb_quota(message)


def test_onf_kpm_v2_header_is_rejected_with_a_clear_error(e2_vectors_dir: Path) -> None:
    data = _hex(e2_vectors_dir, "onos_kpmv2_indicationheader")
    with pytest.raises(DecodeError, match=r"trailing octet.*KPM v2\.0x is not decoded"):
        kpm.decode_indication_header(data)


def test_onf_kpm_v2_message_is_rejected_with_a_clear_error(e2_vectors_dir: Path) -> None:
    data = _hex(e2_vectors_dir, "onos_kpmv2_indicationmessage_format1")
    with pytest.raises(DecodeError, match=r"measRecord.*KPM v2\.0x indication messages are not decoded"):
        kpm.decode_indication_message(data)
