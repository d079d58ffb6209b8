"""From a validated profile to the facts the engines match.

A profile becomes one ``program`` fact plus one ``peer`` fact per peer. Peer facts carry the
program's fields too, so a peer rule can say "uncertified *and* the program bills Medicaid".
Facts are flat dicts of scalars and string lists; a field whose value is unknown is left out
(both engines treat a missing field as "never satisfies a comparison").

Derived fields hold what the rule language cannot compute — caseload per FTE, peer count,
list membership against the activity catalog, the state's row in the state table.

``VOCABULARY`` is the contract with rule authors: every field a condition may name, its type,
and the profile fields (JSON pointers, ``{i}`` = peer index) it comes from — which is how a
finding shows its evidence and how "needs information" names what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import jurisdictions
from engine.catalog import ActivityCatalog, Classification, StateTable
from engine.language import FieldType
from engine.profile import Hiring, Policies, Profile, SupervisionFunction


@dataclass(frozen=True)
class FactField:
    type: FieldType
    scope: str  # "program" (on every fact) or "peer" (peer facts only)
    sources: tuple[str, ...]  # JSON pointers into the profile
    description: str


def _f(kind: str, scope: str, sources: tuple[str, ...] | str, description: str) -> FactField:
    if isinstance(sources, str):
        sources = (sources,)
    return FactField(FieldType(kind), scope, sources, description)


P, R = "program", "peer"

VOCABULARY: dict[str, FactField] = {
    # program
    "state": _f("string", P, "/program/state", "USPS code of the program's state."),
    "state_in_table": _f("boolean", P, "/program/state", "The sources say something about this state's recovery requirement."),
    "state_recovery_requirement": _f("string", P, "/program/state", "The state's recovery requirement per the state table (absent when the state is not in it)."),
    "state_researched": _f("boolean", P, "/program/state", "Research beyond the bundled sources found a cited recovery requirement for this state."),
    "state_sources_conflict": _f("boolean", P, "/program/state", "A newer source disagrees with the bundled tool kit's row for this state."),
    "state_medicaid_limit_basis": _f("string", P, "/program/state", "`primary` or `secondary`: the basis of a source tying Medicaid-paid peer services in this state to clinical settings; `none` when no source says so."),
    "host_agency": _f("string", P, "/program/host_agency", "Kind of host agency."),
    "referral_pathways": _f("list", P, "/program/referral_pathways", "How participants come to the service."),
    "referral_mandated": _f("boolean", P, "/program/referral_pathways", "Some participants are court-ordered or required by a condition of supervision."),
    "mandated_pathways": _f("list", P, "/program/referral_pathways", "The mandated pathways in use."),
    "bills_medicaid": _f("boolean", P, "/program/funding", "The program bills Medicaid for peer services."),
    "peer_count": _f("number", P, "/peers", "Number of peer staff listed."),
    "supervision_frequency": _f("string", P, "/supervision/frequency", "How often supervision happens."),
    "supervision_functions": _f("list", P, "/supervision/functions", "Supervision functions covered."),
    "supervision_functions_missing": _f("list", P, "/supervision/functions", "The supervision functions not covered."),
    "supervision_functions_missing_count": _f("number", P, "/supervision/functions", "How many of the three functions are not covered."),
    "supervision_provided_by": _f("list", P, "/supervision/provided_by", "Who supervises."),
    "supervisor_lived_experience": _f("boolean", P, "/supervision/supervisor_lived_experience", "Supervisor has lived experience."),
    "supervisor_peer_training": _f("boolean", P, "/supervision/supervisor_peer_training", "Supervisor trained in peer support."),
    "co_supervision": _f("boolean", P, "/supervision/co_supervision", "Co-supervision in place."),
    "peer_network_contact": _f("string", P, "/supervision/peer_network_contact", "Contact with a peer network outside the agency."),
    "peer_network_monthly": _f("boolean", P, "/supervision/peer_network_contact", "Peers meet an outside peer network at least monthly."),
    "supervision_mental_health_professional": _f("boolean", P, "/supervision/mental_health_professional", "A competent mental health professional supervises."),
    "supervisor_champions_role": _f("boolean", P, "/supervision/supervisor_champions_role", "Supervisor champions peer roles."),
    "supervisor_dual_role": _f("boolean", P, "/supervision/supervisor_dual_role", "Supervisor is also therapist, diagnostician or sponsor."),
    "supervision_ethics_discussed": _f("boolean", P, "/supervision/ethics_discussed", "Ethics discussed in supervision."),
    "host_is_justice_agency": _f("boolean", P, "/program/host_agency", "The host is a police, court, jail, prison or probation/parole agency."),
    "peers_with_caseload": _f("number", P, "/peers/*/active_caseload", "Peers with an active caseload above zero (absent if any caseload is unknown and none is known above zero)."),
    "peers_justice_employed": _f("number", P, "/peers/*/employer", "Peers employed by the justice agency itself (absent if any employer is unknown)."),
    "peers_hourly_without_benefits": _f("number", P, ("/peers/*/pay_basis", "/peers/*/benefits"), "Peers on hourly contracts without benefits (absent if unknown for any peer)."),
    "peers_below_living_wage": _f("number", P, "/peers/*/living_wage", "Peers paid below a living wage (absent if unknown for any peer)."),
    "peers_pay_not_competitive": _f("number", P, "/peers/*/pay_competitive", "Peers whose pay is not competitive with similar roles (absent if unknown for any peer)."),
    "peers_peer_run_employed": _f("number", P, "/peers/*/employer", "Peers employed by a peer-run organisation (absent if any employer is unknown and none is)."),
    "secure_funding": _f("boolean", P, "/program/secure_funding", "The peer positions have a secure funding source."),
    "peer_led_partnership": _f("boolean", P, "/program/peer_led_partnership", "The program has a partnership with a peer-led organisation."),
    "supervisor_kinds_count": _f("number", P, "/supervision/provided_by", "How many kinds of supervisor supervise the peers."),
    "supervisor_roles_documented": _f("boolean", P, "/supervision/supervisor_roles_documented", "Each supervisor's role is written down."),
    "supervisor_peer_work_experience": _f("boolean", P, "/supervision/supervisor_peer_work_experience", "The supportive supervisor has worked as a peer."),
    # peer
    "peer_title": _f("string", R, "/peers/{i}/title", "The peer's role title."),
    "fte": _f("number", R, "/peers/{i}/fte", "Full-time equivalent."),
    "employer": _f("string", R, "/peers/{i}/employer", "Who employs the peer."),
    "pay_basis": _f("string", R, "/peers/{i}/pay_basis", "How the peer is paid."),
    "benefits": _f("boolean", R, "/peers/{i}/benefits", "The position carries benefits."),
    "living_wage": _f("boolean", R, "/peers/{i}/living_wage", "Pay is at least a living wage."),
    "certification": _f("string", R, "/peers/{i}/certification", "State certification status."),
    "lived_experience": _f("list", R, "/peers/{i}/lived_experience", "Kinds of lived experience."),
    "lived_experience_count": _f("number", R, "/peers/{i}/lived_experience", "How many kinds of lived experience the peer brings."),
    "months_in_recovery": _f("number", R, "/peers/{i}/months_in_recovery", "Months in recovery (sensitive)."),
    "credential_kind": _f("string", R, "/peers/{i}/credential", "Kind of state credential the peer holds or seeks."),
    "credential_match": _f("string", R, ("/peers/{i}/credential", "/program/state"), "`offered`: the state's researched credentials include one of the kind the peer holds or seeks; `not_offered`: they do not; `unknown`: the credential is not given or the state has no researched credentials."),
    "state_required_months": _f("number", R, ("/program/state", "/peers/{i}/credential"), "Months in recovery the state's source requires for the peer's credential (the lowest bar when the credential is not given); absent when no source states a figure."),
    "state_months_basis": _f("string", R, ("/program/state", "/peers/{i}/credential"), "`primary`, `secondary` or `none`: the basis of the source behind state_required_months."),
    "recovery_months_short": _f("number", R, ("/peers/{i}/months_in_recovery", "/program/state"), "How many months the peer's time in recovery falls short of the state's stated figure (negative: above it)."),
    "active_caseload": _f("number", R, "/peers/{i}/active_caseload", "Participants assigned."),
    "caseload_per_fte": _f("number", R, ("/peers/{i}/active_caseload", "/peers/{i}/fte"), "Active caseload divided by FTE."),
    "duties": _f("list", R, "/peers/{i}/duties", "Activity codes the peer is expected to do."),
    "other_roles": _f("list", R, "/peers/{i}/other_roles", "Substitute roles the peer is also used for."),
    "other_roles_count": _f("number", R, "/peers/{i}/other_roles", "Number of substitute roles."),
    "transport_allowed": _f("boolean", R, "/peers/{i}/employer_policies/transport_allowed", "Employer allows transport."),
    "solo_home_visits_allowed": _f("boolean", R, "/peers/{i}/employer_policies/solo_home_visits_allowed", "Employer allows solo home visits."),
    "peer_training": _f("string", R, ("/peers/{i}/peer_support_training", "/peers/{i}/certification"),
                        "The peer's training in peer-support practice: 'certified' (certification includes it), else the recorded training."),
    "pay_competitive": _f("boolean", R, "/peers/{i}/pay_competitive", "The peer's pay is competitive with similar roles."),
}
for _cls in Classification:
    VOCABULARY[f"duties_{_cls.value}"] = _f("list", R, "/peers/{i}/duties", f"The peer's duties classified '{_cls.value}' by the activity catalog.")
    VOCABULARY[f"duties_{_cls.value}_count"] = _f("number", R, "/peers/{i}/duties", f"Number of the peer's duties classified '{_cls.value}'.")
VOCABULARY["duties_unlawful"] = _f("list", R, "/peers/{i}/duties", "The peer's duties the catalog marks unlawful.")
VOCABULARY["duties_unlawful_count"] = _f("number", R, "/peers/{i}/duties", "Number of unlawful duties.")
for _group, _what in (("clinical", "clinical work"), ("supervision_task", "community-supervision tasks")):
    VOCABULARY[f"duties_{_group}"] = _f("list", R, "/peers/{i}/duties", f"The peer's duties classified 'conflict' that are {_what}.")
    VOCABULARY[f"duties_{_group}_count"] = _f("number", R, "/peers/{i}/duties", f"Number of the peer's duties that are {_what}.")
VOCABULARY["individual_duties_count"] = _f(
    "number", R, "/peers/{i}/duties",
    "Number of the peer's duties done with individual participants (Appendix C's activities with a participant, "
    "other than leading groups): the work the tool kit's typical caseload range describes.")

for _name, _field in Policies.model_fields.items():
    _kind = "list" if _name == "outcome_instruments" else "boolean"
    VOCABULARY[f"policy_{_name}"] = _f(_kind, P, f"/policies/{_name}", _field.description or _name)
for _name, _field in Hiring.model_fields.items():
    VOCABULARY[f"hiring_{_name}"] = _f("boolean", P, f"/hiring/{_name}", _field.description or _name)
VOCABULARY["policy_outcome_instruments_count"] = _f("number", P, "/policies/outcome_instruments", "How many outcome instruments are recorded.")

_POLICY_FACT = {name: f"policy_{name}" for name in Policies.model_fields}
_HIRING_FACT = {name: f"hiring_{name}" for name in Hiring.model_fields}
_CLASS_LISTS = [(f"duties_{c.value}", f"duties_{c.value}_count", c.value) for c in Classification]
_CONFLICT_GROUPS = ("clinical", "supervision_task")
_PARTICIPANT_TABLES = ("participant_engagement", "participant_services", "table_2")

FIELD_TYPES: dict[str, dict[str, FieldType]] = {
    "program": {name: f.type for name, f in VOCABULARY.items() if f.scope == P},
    "peer": {name: f.type for name, f in VOCABULARY.items()},
}

_MANDATED = ("court_ordered", "condition_of_supervision")
_JUSTICE_HOSTS = ("police", "court", "treatment_court", "jail", "prison", "probation_parole")
_MONTHLY = ("monthly", "weekly")


def _put(fact: dict[str, Any], name: str, value: Any) -> None:
    if value is not None:
        fact[name] = value


def _count(fact: dict[str, Any], name: str, hits: list[bool], known: list[Any]) -> None:
    """Put a count of peers, unless it is unknown: some peer unknown and none counted."""
    count = sum(1 for h in hits if h)
    if count or all(k is not None for k in known):
        fact[name] = count


class FactBuilder:
    """Turns profiles into facts, with the catalog and state table it was built with."""

    def __init__(self, activities: ActivityCatalog, states: StateTable):
        self._classes = {a.code: a.classification.value for a in activities.activities}
        self._unlawful = {a.code for a in activities.activities if a.unlawful}
        # A duty judged by a dedicated rule (``judged_by``), or unlawful (its own critical rule),
        # is left out of the generic per-classification lists so it is not reported twice.
        self._generic_skip = {a.code for a in activities.activities if a.judged_by} | self._unlawful
        # A conflict activity of a conflict group has its own rule (clinical work, supervision tasks).
        self._conflict_group = {a.code: a.conflict_group for a in activities.activities
                                if a.conflict_group and a.classification == Classification.conflict}
        self._individual = {a.code for a in activities.activities
                            if a.table in _PARTICIPANT_TABLES and not a.group_activity}
        self._states = states
        # Per state, what its researched row gives the program fact; per (state, credential kind),
        # the time-in-recovery figure — decided once here, read per profile.
        self._program_state: dict[str, dict[str, Any]] = {}
        self._figures: dict[tuple[str, str | None], tuple[int, str] | None] = {}
        kinds: list[str | None] = [None, "substance_use", "mental_health", "integrated"]
        for code, row in states.researched.items():
            medicaid = row.medicaid
            self._program_state[code] = {
                "state_researched": bool(row.recovery_facts()),
                "state_sources_conflict": bool(row.conflict_with_guidance) and code in states.states,
                "state_medicaid_limit_basis": row.sources[medicaid.source].basis.value
                if medicaid is not None and medicaid.clinical_setting_only else "none",
            }
            for kind in kinds:
                found = jurisdictions.figure(row, kind)
                self._figures[(code, kind)] = None if found is None else (found.months, found.source.basis.value)
        self._offered = {(code, kind): jurisdictions.offered(row, kind)
                         for code, row in states.researched.items() for kind in kinds}
        self._no_research = {"state_researched": False, "state_sources_conflict": False, "state_medicaid_limit_basis": "none"}

    def build(self, profile: Profile) -> list[dict[str, Any]]:
        program = self._program_fact(profile)
        facts = [program]
        for index, peer in enumerate(profile.peers):
            fact = dict(program)
            fact["kind"] = "peer"
            fact["peer_index"] = index
            self._add_peer(fact, peer)
            facts.append(fact)
        return facts

    def _program_fact(self, profile: Profile) -> dict[str, Any]:
        fact: dict[str, Any] = {"kind": "program"}
        prog = profile.program
        fact["state"] = prog.state.value
        row = self._states.states.get(prog.state.value)
        fact["state_in_table"] = row is not None
        if row is not None:
            fact["state_recovery_requirement"] = row.recovery_requirement.value
        fact.update(self._program_state.get(prog.state.value, self._no_research))
        _put(fact, "host_agency", prog.host_agency and prog.host_agency.value)
        if prog.referral_pathways is not None:
            pathways = [p.value for p in prog.referral_pathways]
            fact["referral_pathways"] = pathways
            mandated = [p for p in pathways if p in _MANDATED]
            fact["mandated_pathways"] = mandated
            fact["referral_mandated"] = bool(mandated)
        if prog.funding is not None:
            fact["bills_medicaid"] = any(f.value == "medicaid" for f in prog.funding)
        fact["peer_count"] = len(profile.peers)
        sup = profile.supervision
        if sup is not None:
            _put(fact, "supervision_frequency", sup.frequency and sup.frequency.value)
            if sup.functions is not None:
                covered = [f.value for f in sup.functions]
                fact["supervision_functions"] = covered
                missing = [f.value for f in SupervisionFunction if f.value not in covered]
                fact["supervision_functions_missing"] = missing
                fact["supervision_functions_missing_count"] = len(missing)
            _put(fact, "supervision_provided_by", sup.provided_by and [k.value for k in sup.provided_by])
            _put(fact, "supervisor_lived_experience", sup.supervisor_lived_experience)
            _put(fact, "supervisor_peer_training", sup.supervisor_peer_training)
            _put(fact, "co_supervision", sup.co_supervision)
            if sup.peer_network_contact is not None:
                fact["peer_network_contact"] = sup.peer_network_contact.value
                fact["peer_network_monthly"] = sup.peer_network_contact.value in _MONTHLY
            _put(fact, "supervision_mental_health_professional", sup.mental_health_professional)
            _put(fact, "supervisor_champions_role", sup.supervisor_champions_role)
            _put(fact, "supervisor_dual_role", sup.supervisor_dual_role)
            _put(fact, "supervision_ethics_discussed", sup.ethics_discussed)
            if sup.provided_by is not None:
                fact["supervisor_kinds_count"] = len(sup.provided_by)
            _put(fact, "supervisor_roles_documented", sup.supervisor_roles_documented)
            _put(fact, "supervisor_peer_work_experience", sup.supervisor_peer_work_experience)
        if prog.host_agency is not None:
            fact["host_is_justice_agency"] = prog.host_agency.value in _JUSTICE_HOSTS
        peers = profile.peers
        caseloads = [p.active_caseload for p in peers]
        if any(c for c in caseloads if c) or all(c is not None for c in caseloads):
            fact["peers_with_caseload"] = sum(1 for c in caseloads if c)
        _count(fact, "peers_justice_employed", [p.employer and p.employer.value == "justice_agency" for p in peers],
               [p.employer for p in peers])
        _count(fact, "peers_hourly_without_benefits",
               [p.pay_basis is not None and p.pay_basis.value == "hourly_contract" and p.benefits is False for p in peers],
               [None if p.pay_basis is None or (p.pay_basis.value == "hourly_contract" and p.benefits is None) else 1 for p in peers])
        _count(fact, "peers_below_living_wage", [p.living_wage is False for p in peers], [p.living_wage for p in peers])
        _count(fact, "peers_pay_not_competitive", [p.pay_competitive is False for p in peers], [p.pay_competitive for p in peers])
        _count(fact, "peers_peer_run_employed", [p.employer and p.employer.value == "peer_run_organization" for p in peers],
               [p.employer for p in peers])
        _put(fact, "secure_funding", prog.secure_funding)
        _put(fact, "peer_led_partnership", prog.peer_led_partnership)
        if profile.policies is not None:
            for name, value in profile.policies.__dict__.items():  # plain attribute dict: fast
                if value is not None:
                    fact[_POLICY_FACT[name]] = [v.value for v in value] if isinstance(value, list) else value
            if profile.policies.outcome_instruments is not None:
                fact["policy_outcome_instruments_count"] = len(profile.policies.outcome_instruments)
        if profile.hiring is not None:
            for name, value in profile.hiring.__dict__.items():
                if value is not None:
                    fact[_HIRING_FACT[name]] = value
        return fact

    def _add_peer(self, fact: dict[str, Any], peer) -> None:
        fact["peer_title"] = peer.title
        _put(fact, "fte", peer.fte)
        _put(fact, "employer", peer.employer and peer.employer.value)
        _put(fact, "pay_basis", peer.pay_basis and peer.pay_basis.value)
        _put(fact, "benefits", peer.benefits)
        _put(fact, "living_wage", peer.living_wage)
        _put(fact, "certification", peer.certification and peer.certification.value)
        if peer.lived_experience is not None:
            fact["lived_experience"] = [x.value for x in peer.lived_experience]
            fact["lived_experience_count"] = len(peer.lived_experience)
        _put(fact, "months_in_recovery", peer.months_in_recovery)
        kind = peer.credential and peer.credential.value
        _put(fact, "credential_kind", kind)
        offered = self._offered.get((fact["state"], kind))
        fact["credential_match"] = "unknown" if offered is None else "offered" if offered else "not_offered"
        found = self._figures.get((fact["state"], kind))
        if found is None:
            fact["state_months_basis"] = "none"
        else:
            fact["state_required_months"], fact["state_months_basis"] = found
            if peer.months_in_recovery is not None:
                fact["recovery_months_short"] = found[0] - peer.months_in_recovery
        _put(fact, "active_caseload", peer.active_caseload)
        if peer.active_caseload is not None and peer.fte is not None:
            fact["caseload_per_fte"] = peer.active_caseload / peer.fte
        if peer.duties is not None:
            duties = list(peer.duties)
            fact["duties"] = duties
            by_class: dict[str, list[str]] = {value: [] for _, _, value in _CLASS_LISTS}
            by_group: dict[str, list[str]] = {group: [] for group in _CONFLICT_GROUPS}
            for duty in duties:
                if duty in self._generic_skip:
                    continue
                group = self._conflict_group.get(duty)
                (by_group[group] if group else by_class[self._classes[duty]]).append(duty)
            for list_name, count_name, value in _CLASS_LISTS:
                fact[list_name] = by_class[value]
                fact[count_name] = len(by_class[value])
            for group, found in by_group.items():
                fact[f"duties_{group}"] = found
                fact[f"duties_{group}_count"] = len(found)
            fact["individual_duties_count"] = sum(1 for d in duties if d in self._individual)
            unlawful = [d for d in duties if d in self._unlawful]
            fact["duties_unlawful"] = unlawful
            fact["duties_unlawful_count"] = len(unlawful)
        if peer.other_roles is not None:
            roles = [r.value for r in peer.other_roles]
            fact["other_roles"] = roles
            fact["other_roles_count"] = len(roles)
        if peer.employer_policies is not None:
            _put(fact, "transport_allowed", peer.employer_policies.transport_allowed)
            _put(fact, "solo_home_visits_allowed", peer.employer_policies.solo_home_visits_allowed)
        if peer.certification is not None and peer.certification.value == "certified":
            fact["peer_training"] = "certified"
        elif peer.peer_support_training is not None:
            fact["peer_training"] = peer.peer_support_training.value
        _put(fact, "pay_competitive", peer.pay_competitive)
