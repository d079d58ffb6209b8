"""Hypothesis strategies for valid program profiles, varied enough to exercise every rule."""

from pathlib import Path

from hypothesis import strategies as st

from engine.catalog import activity_codes
from engine.profile import (
    Hiring, OutcomeInstrument, Policies,
    Certification, Employer, Funding, HostAgency, LivedExperience, NetworkContact, PayBasis, PeerTraining,
    ReferralPathway, SubstituteRole, SupervisionFrequency, SupervisionFunction, SupervisorKind, USState,
)


RULE_IDS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "rules").glob("*/PC-*.yaml"))


def maybe(strategy):
    return st.one_of(st.none(), strategy)


def subset(enum_or_values, max_size=None):
    values = [e.value for e in enum_or_values] if not isinstance(enum_or_values, (list, tuple)) else list(enum_or_values)
    return st.lists(st.sampled_from(values), unique=True, max_size=max_size or len(values))


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


peers = st.builds(
    lambda **kw: _drop_none(kw),
    title=st.sampled_from(["Peer Recovery Specialist", "Peer Navigator", "Recovery Coach"]),
    fte=maybe(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]) | st.floats(min_value=0.01, max_value=1.0)),
    employer=maybe(st.sampled_from([e.value for e in Employer])),
    pay_basis=maybe(st.sampled_from([e.value for e in PayBasis])),
    benefits=maybe(st.booleans()),
    living_wage=maybe(st.booleans()),
    certification=maybe(st.sampled_from([e.value for e in Certification])),
    lived_experience=maybe(subset(LivedExperience)),
    months_in_recovery=maybe(st.integers(min_value=0, max_value=120)),
    active_caseload=maybe(st.integers(min_value=0, max_value=80)),
    duties=maybe(subset(activity_codes(), max_size=8)),
    other_roles=maybe(subset(SubstituteRole, max_size=2)),
    employer_policies=maybe(st.builds(lambda **kw: _drop_none(kw), transport_allowed=maybe(st.booleans()),
                                      solo_home_visits_allowed=maybe(st.booleans()))),
    credential=maybe(st.sampled_from(["substance_use", "mental_health", "integrated"])),
    peer_support_training=maybe(st.sampled_from([e.value for e in PeerTraining])),
    pay_competitive=maybe(st.booleans()),
)

profiles = st.builds(
    lambda schema_version, program, peers, supervision, policies, hiring, acknowledged: _drop_none(
        {"schema_version": schema_version, "program": program, "peers": peers, "supervision": supervision,
         "policies": policies, "hiring": hiring, "acknowledged": acknowledged}
    ),
    schema_version=st.sampled_from(["1.0", "1.1", "1.2"]),
    program=st.builds(
        lambda **kw: _drop_none(kw),
        name=st.just("Generated program"),
        state=st.sampled_from(["NY", "IA", "OH", "TX", "OR", "FL", "DC", "WY", "AK", "CA"])
        | st.sampled_from(["PA", "AL", "GA", "HI", "TN", "WA", "MN", "NM", "NJ", "VT"])  # researched: figures, kinds, Medicaid limits
        | st.sampled_from([s.value for s in USState]),
        host_agency=maybe(st.sampled_from([e.value for e in HostAgency])),
        referral_pathways=maybe(subset(ReferralPathway)),
        funding=maybe(subset(Funding, max_size=3)),
        intercepts=maybe(subset([0, 1, 2, 3, 4, 5])),
        secure_funding=maybe(st.booleans()),
        peer_led_partnership=maybe(st.booleans()),
    ),
    peers=st.lists(peers, min_size=1, max_size=4),
    supervision=maybe(st.builds(
        lambda **kw: _drop_none(kw),
        provided_by=maybe(subset(SupervisorKind, max_size=2)),
        frequency=maybe(st.sampled_from([e.value for e in SupervisionFrequency])),
        functions=maybe(subset(SupervisionFunction)),
        supervisor_lived_experience=maybe(st.booleans()),
        supervisor_peer_training=maybe(st.booleans()),
        co_supervision=maybe(st.booleans()),
        peer_network_contact=maybe(st.sampled_from([e.value for e in NetworkContact])),
        mental_health_professional=maybe(st.booleans()),
        supervisor_champions_role=maybe(st.booleans()),
        supervisor_dual_role=maybe(st.booleans()),
        ethics_discussed=maybe(st.booleans()),
        supervisor_roles_documented=maybe(st.booleans()),
        supervisor_peer_work_experience=maybe(st.booleans()),
    )),
    policies=maybe(st.builds(lambda **kw: _drop_none(kw), **{
        name: maybe(subset(OutcomeInstrument)) if name == "outcome_instruments" else maybe(st.booleans())
        for name in Policies.model_fields
    })),
    hiring=maybe(st.builds(lambda **kw: _drop_none(kw), **{name: maybe(st.booleans()) for name in Hiring.model_fields})),
    acknowledged=maybe(st.lists(st.builds(
        lambda rule_id, subject: _drop_none({"rule_id": rule_id, "reason": "Reviewed with our TA provider.", "subject": subject}),
        rule_id=st.sampled_from(RULE_IDS), subject=maybe(st.sampled_from(["", "/peers/0", "/peers/1"])),
    ), max_size=3)),
)
