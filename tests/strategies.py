"""Hypothesis strategies for valid program profiles, varied enough to exercise every rule."""

from hypothesis import strategies as st

from engine.catalog import activity_codes
from engine.profile import (
    Certification, Employer, Funding, HostAgency, LivedExperience, NetworkContact, PayBasis,
    ReferralPathway, SubstituteRole, SupervisionFrequency, SupervisionFunction, SupervisorKind, USState,
)


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
)

profiles = st.builds(
    lambda program, peers, supervision, policies: _drop_none(
        {"schema_version": "1.0", "program": program, "peers": peers, "supervision": supervision, "policies": policies}
    ),
    program=st.builds(
        lambda **kw: _drop_none(kw),
        name=st.just("Generated program"),
        state=st.sampled_from(["NY", "IA", "OH", "TX", "OR", "FL", "DC", "WY", "AK", "CA"]) | st.sampled_from([s.value for s in USState]),
        host_agency=maybe(st.sampled_from([e.value for e in HostAgency])),
        referral_pathways=maybe(subset(ReferralPathway)),
        funding=maybe(subset(Funding, max_size=3)),
        intercepts=maybe(subset([0, 1, 2, 3, 4, 5])),
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
    )),
    policies=maybe(st.builds(
        lambda **kw: _drop_none(kw),
        written_job_description=maybe(st.booleans()),
        consent_protocol=maybe(st.booleans()),
        safety_protocol=maybe(st.booleans()),
    )),
)
