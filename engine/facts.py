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


def _count(fact: dict[str, Any], name: str, hits: list[bool], known: list[Any]) -> None:
    """Put a count of peers, unless it is unknown: some peer unknown and none counted."""
    count = sum(1 for h in hits if h)
    if count or all(k is not None for k in known):
        fact[name] = count


# How each fact field is computed, as Python statements: (fields produced, statements). The
# builder writes out only the recipes whose fields the ruleset reads, as one generated function
# (``FactBuilder``). In program recipes ``f`` is the program fact, ``prog`` the profile's
# program, ``sup`` its supervision (statements under ``sup`` run only when it is given) and
# ``peers`` the profile's peers; in peer recipes ``f`` is the peer's fact and ``p`` the peer.
# ``X._value_`` is an enum member's value (the plain attribute behind ``.value``, which is a
# slow descriptor on Python 3.11). Unknown stays absent: a recipe never writes None.
_PROGRAM: list[tuple[tuple[str, ...], str]] = [
    (("state",), 'f["state"] = prog.state._value_'),
    (("state_in_table", "state_recovery_requirement"), """
row = state_rows.get(prog.state._value_)
f["state_in_table"] = row is not None
if row is not None:
    f["state_recovery_requirement"] = row.recovery_requirement._value_"""),
    (("state_researched", "state_sources_conflict", "state_medicaid_limit_basis"),
     'f.update(PROGRAM_STATE.get(prog.state._value_, NO_RESEARCH))'),
    (("host_agency",), 'if prog.host_agency is not None: f["host_agency"] = prog.host_agency._value_'),
    (("referral_pathways", "mandated_pathways", "referral_mandated"), """
if prog.referral_pathways is not None:
    pathways = [x._value_ for x in prog.referral_pathways]
    f["referral_pathways"] = pathways
    mandated = [x for x in pathways if x in MANDATED]
    f["mandated_pathways"] = mandated
    f["referral_mandated"] = bool(mandated)"""),
    (("bills_medicaid",), 'if prog.funding is not None: f["bills_medicaid"] = any(x._value_ == "medicaid" for x in prog.funding)'),
    (("peer_count",), 'f["peer_count"] = len(peers)'),
    (("host_is_justice_agency",), 'if prog.host_agency is not None: f["host_is_justice_agency"] = prog.host_agency._value_ in JUSTICE_HOSTS'),
    (("peers_with_caseload",), """
caseloads = [x.active_caseload for x in peers]
if any(c for c in caseloads if c) or all(c is not None for c in caseloads):
    f["peers_with_caseload"] = sum(1 for c in caseloads if c)"""),
    (("peers_justice_employed",), """
count(f, "peers_justice_employed", [x.employer is not None and x.employer._value_ == "justice_agency" for x in peers],
      [x.employer for x in peers])"""),
    (("peers_hourly_without_benefits",), """
count(f, "peers_hourly_without_benefits",
      [x.pay_basis is not None and x.pay_basis._value_ == "hourly_contract" and x.benefits is False for x in peers],
      [None if x.pay_basis is None or (x.pay_basis._value_ == "hourly_contract" and x.benefits is None) else 1
       for x in peers])"""),
    (("peers_below_living_wage",), """
count(f, "peers_below_living_wage", [x.living_wage is False for x in peers], [x.living_wage for x in peers])"""),
    (("peers_pay_not_competitive",), """
count(f, "peers_pay_not_competitive", [x.pay_competitive is False for x in peers], [x.pay_competitive for x in peers])"""),
    (("peers_peer_run_employed",), """
count(f, "peers_peer_run_employed", [x.employer is not None and x.employer._value_ == "peer_run_organization" for x in peers],
      [x.employer for x in peers])"""),
    (("secure_funding",), 'if prog.secure_funding is not None: f["secure_funding"] = prog.secure_funding'),
    (("peer_led_partnership",), 'if prog.peer_led_partnership is not None: f["peer_led_partnership"] = prog.peer_led_partnership'),
]
_SUPERVISION: list[tuple[tuple[str, ...], str]] = [
    (("supervision_frequency",), 'if sup.frequency is not None: f["supervision_frequency"] = sup.frequency._value_'),
    (("supervision_functions", "supervision_functions_missing", "supervision_functions_missing_count"), """
if sup.functions is not None:
    covered = [x._value_ for x in sup.functions]
    f["supervision_functions"] = covered
    missing = [x for x in FUNCTIONS if x not in covered]
    f["supervision_functions_missing"] = missing
    f["supervision_functions_missing_count"] = len(missing)"""),
    (("supervision_provided_by",), 'if sup.provided_by is not None: f["supervision_provided_by"] = [x._value_ for x in sup.provided_by]'),
    (("peer_network_contact", "peer_network_monthly"), """
if sup.peer_network_contact is not None:
    f["peer_network_contact"] = sup.peer_network_contact._value_
    f["peer_network_monthly"] = sup.peer_network_contact._value_ in MONTHLY"""),
] + [
    ((fact,), f'if sup.{attr} is not None: f["{fact}"] = sup.{attr}')
    for fact, attr in [
        ("supervisor_lived_experience", "supervisor_lived_experience"),
        ("supervisor_peer_training", "supervisor_peer_training"),
        ("co_supervision", "co_supervision"),
        ("supervision_mental_health_professional", "mental_health_professional"),
        ("supervisor_champions_role", "supervisor_champions_role"),
        ("supervisor_dual_role", "supervisor_dual_role"),
        ("supervision_ethics_discussed", "ethics_discussed"),
    ]
] + [
    (("supervisor_kinds_count",), 'if sup.provided_by is not None: f["supervisor_kinds_count"] = len(sup.provided_by)'),
    (("supervisor_roles_documented",),
     'if sup.supervisor_roles_documented is not None: f["supervisor_roles_documented"] = sup.supervisor_roles_documented'),
    (("supervisor_peer_work_experience",),
     'if sup.supervisor_peer_work_experience is not None: f["supervisor_peer_work_experience"] = sup.supervisor_peer_work_experience'),
]
_POLICIES = [((f"policy_{name}",), name) for name in Policies.model_fields]
_HIRING = [((f"hiring_{name}",), name) for name in Hiring.model_fields]
_PEER: list[tuple[tuple[str, ...], str]] = [
    (("peer_title",), 'f["peer_title"] = p.title'),
    (("fte",), 'if p.fte is not None: f["fte"] = p.fte'),
    (("employer",), 'if p.employer is not None: f["employer"] = p.employer._value_'),
    (("pay_basis",), 'if p.pay_basis is not None: f["pay_basis"] = p.pay_basis._value_'),
    (("benefits",), 'if p.benefits is not None: f["benefits"] = p.benefits'),
    (("living_wage",), 'if p.living_wage is not None: f["living_wage"] = p.living_wage'),
    (("certification",), 'if p.certification is not None: f["certification"] = p.certification._value_'),
    (("lived_experience", "lived_experience_count"), """
if p.lived_experience is not None:
    f["lived_experience"] = [x._value_ for x in p.lived_experience]
    f["lived_experience_count"] = len(p.lived_experience)"""),
    (("months_in_recovery",), 'if p.months_in_recovery is not None: f["months_in_recovery"] = p.months_in_recovery'),
    (("credential_kind", "credential_match", "state_required_months", "state_months_basis", "recovery_months_short"), """
kind = p.credential._value_ if p.credential is not None else None
if kind is not None:
    f["credential_kind"] = kind
offered = OFFERED.get((f["state"], kind))
f["credential_match"] = "unknown" if offered is None else "offered" if offered else "not_offered"
found = FIGURES.get((f["state"], kind))
if found is None:
    f["state_months_basis"] = "none"
else:
    f["state_required_months"], f["state_months_basis"] = found
    if p.months_in_recovery is not None:
        f["recovery_months_short"] = found[0] - p.months_in_recovery"""),
    (("active_caseload",), 'if p.active_caseload is not None: f["active_caseload"] = p.active_caseload'),
    (("caseload_per_fte",), """
if p.active_caseload is not None and p.fte is not None:
    f["caseload_per_fte"] = p.active_caseload / p.fte"""),
    (("duties",) + tuple(n for names in _CLASS_LISTS for n in names[:2])
     + tuple(n for g in _CONFLICT_GROUPS for n in (f"duties_{g}", f"duties_{g}_count"))
     + ("individual_duties_count", "duties_unlawful", "duties_unlawful_count"), """
if p.duties is not None:
    duties = list(p.duties)
    f["duties"] = duties
    by_class = {value: [] for value in CLASSES}
    by_group = {group: [] for group in CONFLICT_GROUPS}
    for duty in duties:
        if duty in GENERIC_SKIP:
            continue
        group = CONFLICT_GROUP.get(duty)
        (by_group[group] if group else by_class[CLASS_OF[duty]]).append(duty)
    for list_name, count_name, value in CLASS_LISTS:
        f[list_name] = by_class[value]
        f[count_name] = len(by_class[value])
    for group, found in by_group.items():
        f["duties_" + group] = found
        f["duties_" + group + "_count"] = len(found)
    f["individual_duties_count"] = sum(1 for d in duties if d in INDIVIDUAL)
    unlawful = [d for d in duties if d in UNLAWFUL]
    f["duties_unlawful"] = unlawful
    f["duties_unlawful_count"] = len(unlawful)"""),
    (("other_roles", "other_roles_count"), """
if p.other_roles is not None:
    roles = [x._value_ for x in p.other_roles]
    f["other_roles"] = roles
    f["other_roles_count"] = len(roles)"""),
    (("transport_allowed", "solo_home_visits_allowed"), """
if p.employer_policies is not None:
    if p.employer_policies.transport_allowed is not None:
        f["transport_allowed"] = p.employer_policies.transport_allowed
    if p.employer_policies.solo_home_visits_allowed is not None:
        f["solo_home_visits_allowed"] = p.employer_policies.solo_home_visits_allowed"""),
    (("peer_training",), """
if p.certification is not None and p.certification._value_ == "certified":
    f["peer_training"] = "certified"
elif p.peer_support_training is not None:
    f["peer_training"] = p.peer_support_training._value_"""),
    (("pay_competitive",), 'if p.pay_competitive is not None: f["pay_competitive"] = p.pay_competitive'),
]
# Always built: what subjects, pointers and message templates read besides the rules' fields.
ALWAYS = frozenset({"state", "peer_count", "peer_title"})


def _chosen(recipes, fields: frozenset[str]) -> list[str]:
    return [code.strip("\n") for produced, code in recipes if fields.intersection(produced)]


def _indented(code: str, depth: int) -> str:
    return "\n".join("    " * depth + line for line in code.splitlines())


class FactBuilder:
    """Turns profiles into facts, with the catalog and state table it was built with.

    ``fields``: the fact fields to build — those the ruleset reads (``Ruleset`` passes them);
    None builds every field of the vocabulary. The recipes of the chosen fields are written out
    as one Python function at construction (``source`` holds its text), so building a fact runs
    no per-field dispatch and skips what no rule reads."""

    def __init__(self, activities: ActivityCatalog, states: StateTable, fields: frozenset[str] | None = None):
        unknown = set(fields or ()) - set(VOCABULARY)
        if unknown:
            raise ValueError(f"not fact fields: {sorted(unknown)}")
        self.fields = frozenset(VOCABULARY) if fields is None else frozenset(fields) | ALWAYS
        unlawful = {a.code for a in activities.activities if a.unlawful}
        # A duty judged by a dedicated rule (``judged_by``), or unlawful (its own critical rule),
        # is left out of the generic per-classification lists so it is not reported twice.
        # Per state, what its researched row gives the program fact; per (state, credential kind),
        # the time-in-recovery figure — decided once here, read per profile.
        program_state: dict[str, dict[str, Any]] = {}
        figures: dict[tuple[str, str | None], tuple[int, str] | None] = {}
        kinds: list[str | None] = [None, "substance_use", "mental_health", "integrated"]
        for code, row in states.researched.items():
            medicaid = row.medicaid
            program_state[code] = {
                "state_researched": bool(row.recovery_facts()),
                "state_sources_conflict": bool(row.conflict_with_guidance) and code in states.states,
                "state_medicaid_limit_basis": row.sources[medicaid.source].basis.value
                if medicaid is not None and medicaid.clinical_setting_only else "none",
            }
            for kind in kinds:
                found = jurisdictions.figure(row, kind)
                figures[(code, kind)] = None if found is None else (found.months, found.source.basis.value)
        namespace: dict[str, Any] = {
            "PROGRAM_STATE": program_state, "FIGURES": figures,
            "NO_RESEARCH": {"state_researched": False, "state_sources_conflict": False, "state_medicaid_limit_basis": "none"},
            "OFFERED": {(code, kind): jurisdictions.offered(row, kind)
                        for code, row in states.researched.items() for kind in kinds},
            "state_rows": dict(states.states), "count": _count, "MANDATED": _MANDATED, "JUSTICE_HOSTS": _JUSTICE_HOSTS,
            "MONTHLY": _MONTHLY, "FUNCTIONS": [x.value for x in SupervisionFunction], "CLASS_LISTS": _CLASS_LISTS,
            "CLASSES": [value for _, _, value in _CLASS_LISTS], "UNLAWFUL": unlawful,
            "CLASS_OF": {a.code: a.classification.value for a in activities.activities},
            "GENERIC_SKIP": {a.code for a in activities.activities if a.judged_by} | unlawful,
            # A conflict activity of a conflict group has its own rule (clinical work, supervision tasks).
            "CONFLICT_GROUP": {a.code: a.conflict_group for a in activities.activities
                               if a.conflict_group and a.classification == Classification.conflict},
            "CONFLICT_GROUPS": _CONFLICT_GROUPS,
            "INDIVIDUAL": {a.code for a in activities.activities
                           if a.table in _PARTICIPANT_TABLES and not a.group_activity},
        }
        self.source = self._source()
        exec(compile(self.source, "<peercheck:facts>", "exec"), namespace)  # noqa: S102 - fixed recipes, no input
        self.build = namespace["build"]

    def _source(self) -> str:
        fields = self.fields
        lines = ["def build(profile):",
                 "    prog = profile.program", "    peers = profile.peers", '    f = {"kind": "program"}']
        split = next(i for i, (produced, _) in enumerate(_PROGRAM) if "peer_count" in produced) + 1
        lines += [_indented(code, 1) for code in _chosen(_PROGRAM[:split], fields)]
        supervision = _chosen(_SUPERVISION, fields)
        if supervision:
            lines += ["    sup = profile.supervision", "    if sup is not None:"]
            lines += [_indented(code, 2) for code in supervision]
        lines += [_indented(code, 1) for code in _chosen(_PROGRAM[split:], fields)]
        for attribute, recipes, prefix in (("policies", _POLICIES, "policy_"), ("hiring", _HIRING, "hiring_")):
            chosen = [name for produced, name in recipes if fields.intersection(produced)]
            count = attribute == "policies" and "policy_outcome_instruments_count" in fields
            if chosen or count:
                lines += [f"    given = profile.{attribute}", "    if given is not None:"]
                for name in chosen:
                    value = "[x._value_ for x in v]" if name == "outcome_instruments" else "v"
                    lines += [f"        v = given.{name}", f"        if v is not None: f[{prefix + name!r}] = {value}"]
                if count:
                    lines += ["        if given.outcome_instruments is not None:",
                              '            f["policy_outcome_instruments_count"] = len(given.outcome_instruments)']
        lines += ["    facts = [f]", "    program = f", "    for index, p in enumerate(peers):",
                  "        f = dict(program)", '        f["kind"] = "peer"', '        f["peer_index"] = index']
        lines += [_indented(code, 2) for code in _chosen(_PEER, fields)]
        lines += ["        facts.append(f)", "    return facts"]
        return "\n".join(lines) + "\n"
