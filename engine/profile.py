"""The program profile: what a caller tells PeerCheck about one program.

Every field is documented because this model *is* the API's request schema. Fields the
guidance needs but a caller may not know are optional: ``null`` or absent means "unknown",
and a rule that needs an unknown field reports "needs information" rather than passing.

Versions: a profile declares its ``schema_version`` and may carry only the fields of that
version. A field added after 1.0 ends its description with "Since 1.1." (or 1.2, …), read by
``added_in``; a 1.0 profile carrying a 1.1 field is refused, naming the field, rather than read
as a newer version it does not claim to be. Every older profile is valid under a newer version,
so the fix is to declare the newer one.
"""

from __future__ import annotations

import operator
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from engine.catalog import activity_codes

SCHEMA_VERSION = "1.2"
SCHEMA_VERSIONS = ("1.0", "1.1", "1.2")
_SINCE = re.compile(r"Since (\d+\.\d+)\.$")


def added_in(description: str | None) -> str | None:
    """The schema version that added a field, from the end of its description ("… Since 1.1.");
    None for a field of 1.0."""
    found = _SINCE.search(description or "")
    return found.group(1) if found else None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))

ActivityCode = Literal[activity_codes()]  # type: ignore[valid-type]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Labelled(StrEnum):
    """A code with a plain-language label: the code is what the API exchanges, the label is what
    people read (forms, reports, error messages). ``Member.label`` gives it; the JSON schema lists
    the labels under ``x-enum-labels``."""

    label: str

    # ``value`` read straight from ``_value_``: Enum's own ``value`` is a Python-level descriptor
    # with checks of its own, and pydantic reads it for every code it writes (a profile's digest).
    value = property(operator.attrgetter("_value_"))  # type: ignore[assignment]

    def __new__(cls, value: str, label: str) -> "Labelled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {member.value: member.label for member in cls}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema["strict"] = False  # a code arrives as a JSON string, never as the enum member itself
        return schema

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema = handler.resolve_ref_schema(schema)
        schema["x-enum-labels"] = cls.labels()
        return schema


class USState(Labelled):
    """USPS codes of the 50 states, the District of Columbia and the inhabited territories."""

    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"
    DC = "DC", "District of Columbia"
    PR = "PR", "Puerto Rico"
    GU = "GU", "Guam"
    VI = "VI", "U.S. Virgin Islands"
    AS = "AS", "American Samoa"
    MP = "MP", "Northern Mariana Islands"


class HostAgency(Labelled):
    police = "police", "Police or sheriff's department"
    court = "court", "Court"
    treatment_court = "treatment_court", "Treatment court (drug, mental health or veterans court)"
    jail = "jail", "Jail"
    prison = "prison", "Prison"
    probation_parole = "probation_parole", "Probation / parole"
    health_department = "health_department", "Health department"
    treatment_provider = "treatment_provider", "Treatment provider"
    peer_run_organization = "peer_run_organization", "Peer-run organisation"
    other = "other", "Other"


class ReferralPathway(Labelled):
    voluntary = "voluntary", "Voluntary referral"
    incentive = "incentive", "Offered with an incentive"
    court_ordered = "court_ordered", "Ordered by a court"
    condition_of_supervision = "condition_of_supervision", "A condition of probation, parole or pretrial supervision"


class Funding(Labelled):
    cossap = "cossap", "COSSAP grant"
    medicaid = "medicaid", "Medicaid billing for peer services"
    sor = "sor", "State Opioid Response (SOR) grant"
    drug_court_grant = "drug_court_grant", "Drug court grant"
    county = "county", "County funds"
    canteen = "canteen", "Canteen / commissary funds"
    state = "state", "State funds"
    other_grant = "other_grant", "Another grant"
    other = "other", "Other"


class Employer(Labelled):
    justice_agency = "justice_agency", "The justice agency itself"
    treatment_agency = "treatment_agency", "A partner treatment agency"
    peer_run_organization = "peer_run_organization", "A peer-run organisation"
    contractor = "contractor", "A contractor"
    other = "other", "Other"


class PayBasis(Labelled):
    salaried = "salaried", "Salaried employee"
    hourly_employee = "hourly_employee", "Hourly employee"
    hourly_contract = "hourly_contract", "Hourly contract"
    stipend = "stipend", "Stipend"
    volunteer = "volunteer", "Volunteer (unpaid)"


class Certification(Labelled):
    certified = "certified", "Certified"
    in_progress = "in_progress", "Working towards certification"
    not_certified = "not_certified", "Not certified"


class LivedExperience(Labelled):
    substance_use = "substance_use", "Substance use"
    mental_health = "mental_health", "Mental health"
    justice_involvement = "justice_involvement", "Justice involvement"


class SubstituteRole(Labelled):
    """Roles the tool kit says a peer must not be used as a substitute for."""

    case_aide = "case_aide", "Case aide"
    case_manager = "case_manager", "Case manager"
    errand_runner = "errand_runner", "Errand runner"
    van_driver = "van_driver", "Van driver"
    community_supervision_officer = "community_supervision_officer", "Community supervision (probation or parole) officer"


class PeerTraining(Labelled):
    trained = "trained", "Trained in peer-support practice"
    on_the_job = "on_the_job", "Being trained on the job, with a written plan"
    none = "none", "Not trained in peer-support practice, and no plan"


class SupervisorKind(Labelled):
    justice_agency_staff = "justice_agency_staff", "Justice agency staff"
    clinical_professional = "clinical_professional", "A clinical professional"
    peer_supervisor = "peer_supervisor", "A supervisor with peer experience"
    partner_agency_staff = "partner_agency_staff", "Partner agency staff"
    other = "other", "Other"


class SupervisionFrequency(Labelled):
    weekly = "weekly", "Weekly"
    biweekly = "biweekly", "Every two weeks"
    monthly = "monthly", "Monthly"
    ad_hoc = "ad_hoc", "Only when something comes up"
    none = "none", "Never"


class SupervisionFunction(Labelled):
    administrative = "administrative", "Administrative (tasks, policies, paperwork)"
    educative = "educative", "Educative (skills and professional growth)"
    supportive = "supportive", "Supportive (stress, wellbeing, the peer's own recovery)"


class NetworkContact(Labelled):
    none = "none", "Never"
    less_than_monthly = "less_than_monthly", "Less than once a month"
    monthly = "monthly", "About once a month"
    weekly = "weekly", "Weekly or more"


class _Strict(BaseModel):
    """Strict JSON types: ``"24"`` is not an integer and ``"yes"`` or ``0`` not a boolean, as the
    OpenAPI document says (codes of ``Labelled`` enums are still read from strings)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=2000, strict=True)


def _ask(question: str, help: str | None = None) -> dict[str, str]:
    """What a form asks for a field, in plain words (``x-question`` in the JSON schema), and help
    beyond that when the description is written for integrators (``x-help``). The question catalog
    (engine/questions) reads both; without ``x-help`` a field with a question has no help text."""
    return {"x-question": question, **({"x-help": help} if help else {})}


def _unique(values: list | None) -> list | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("items must be unique")
    return values


class Program(_Strict):
    """The program as a whole: where it sits, who hosts it, how people come to it, who pays."""

    name: ShortText = Field(title="Program name", description="The program's name, as it appears in its own documents.", json_schema_extra=_ask("What is the program called?"))
    state: USState = Field(title="State", description="USPS code of the state (or DC / territory) the program operates in; decides which certification and recovery requirements apply.", json_schema_extra=_ask("Which state does the program operate in?", "Decides which certification and recovery requirements apply."))
    intercepts: list[Annotated[int, Field(ge=0, le=5)]] | None = Field(
        title="Sequential Intercept Model points served",
        default=None, max_length=6,
        description="Sequential Intercept Model points served: 0 community services, 1 law enforcement, 2 initial detention / first court appearance, 3 jails and courts, 4 reentry, 5 community corrections.",
    )
    host_agency: HostAgency | None = Field(title="Host agency", default=None, description="The kind of agency the program runs in.", json_schema_extra=_ask("What kind of agency runs the program?"))
    referral_pathways: list[ReferralPathway] | None = Field(
        title="How participants come to peer support",
        default=None, max_length=4,
        description="How participants come to peer support: voluntary referral, an incentive, a court order, or a condition of supervision. Unknown if absent.",
        json_schema_extra=_ask("How do participants come to peer support?", "Choose every way that applies."),
    )
    funding: list[Funding] | None = Field(
        title="Funding",
        default=None, max_length=9,
        description="Funding streams; `medicaid` means the program bills Medicaid for peer services.",
        json_schema_extra=_ask("How is the program funded?", "Choose every funding stream. Choose Medicaid only if the program bills Medicaid for peer services."),
    )
    # schema 1.2
    secure_funding: bool | None = Field(
        title="Secure funding for the peer positions", default=None,
        description="The peer positions have a secure funding source: funding committed beyond the current grant or budget period. Since 1.2.",
        json_schema_extra=_ask("Is the funding for the peer positions secure beyond the current grant or budget period?"),
    )
    peer_led_partnership: bool | None = Field(
        title="Partnership with a peer-led organisation", default=None,
        description="The program has a partnership with a peer-led organisation that gives the peers training, support, and peer-specific supervision or mentoring. Since 1.2.",
        json_schema_extra=_ask("Does the program have a partnership with a peer-led organisation?", "One that gives the peers training, support, and peer-specific supervision or mentoring."),
    )

    unique_lists = field_validator("intercepts", "referral_pathways", "funding")(_unique)


class EmployerPolicies(_Strict):
    """What the peer's employer allows; decides whether some duties can be done at all."""

    transport_allowed: bool | None = Field(title="Employer allows the peer to drive participants", default=None, description="The employer lets the peer transport participants.", json_schema_extra=_ask("Does the employer allow this peer to drive participants?"))
    solo_home_visits_allowed: bool | None = Field(title="Employer allows home visits without other staff", default=None, description="The employer lets the peer visit participants' homes without an officer or other staff member.", json_schema_extra=_ask("Does the employer allow this peer to visit participants' homes without an officer or other staff member?"))


class Credential(Labelled):
    """Kinds of state peer credential; the same codes as the state table's credential kinds."""

    substance_use = "substance_use", "Substance-use credential (recovery coach, peer recovery specialist)"
    mental_health = "mental_health", "Mental-health peer specialist credential"
    integrated = "integrated", "One credential for both substance use and mental health"


class Peer(_Strict):
    """One peer support worker (or one planned position)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] | None = Field(
        title="Your id for this peer",
        default=None, description="The caller's stable id for this peer record (letters, digits, `._:-`); echoed in findings."
    )
    title: ShortText = Field(title="Job title", description="Role title, e.g. 'Peer Recovery Specialist' (Appendix A / COSSAP Table C titles).", json_schema_extra=_ask("What is this peer's job title?", "For example Peer Recovery Specialist or Peer Support Worker."))
    fte: float | None = Field(
        title="Full-time equivalent (FTE)",
        default=None, ge=0.01, le=1,
        description="Full-time equivalent, in (0, 1] and at least 0.01 (a position under half an hour a week is not one). Caseload is judged per FTE.",
        json_schema_extra=_ask("How much of a full-time position does this peer work?", "As a full-time equivalent (FTE): 1 is full time, 0.5 half time. Caseloads are judged per full-time equivalent."),
    )
    employer: Employer | None = Field(title="Employer", default=None, description="Who employs the peer: the justice agency itself, a partner treatment agency, a peer-run organisation, or a contractor.", json_schema_extra=_ask("Who employs this peer?"))
    pay_basis: PayBasis | None = Field(title="How the peer is paid", default=None, description="How the peer is paid.", json_schema_extra=_ask("How is this peer paid?"))
    benefits: bool | None = Field(title="Employee benefits", default=None, description="The position carries employee benefits.", json_schema_extra=_ask("Does this peer's position come with employee benefits?"))
    living_wage: bool | None = Field(title="Paid a living wage", default=None, description="Pay is at least a living wage for the area.", json_schema_extra=_ask("Is this peer paid at least a living wage for the area?"))
    certification: Certification | None = Field(title="State peer certification", default=None, description="State peer certification status.", json_schema_extra=_ask("Is this peer certified as a peer worker by the state?"))
    lived_experience: list[LivedExperience] | None = Field(title="Lived experience", default=None, max_length=3, description="Kinds of lived experience the peer brings.", json_schema_extra=_ask("What lived experience does this peer bring?", "Choose every kind that applies, or none."))
    months_in_recovery: int | None = Field(
        title="Months in recovery",
        default=None, ge=0, le=1200,
        description="Optional and sensitive: months in recovery. Used only against the state's requirement; never logged.",
        json_schema_extra=_ask("How many months has this peer been in recovery?", "Sensitive, and optional: used only to compare with the state's requirement, and never logged. Answer \"don't know\" if you would rather not say."),
    )
    active_caseload: int | None = Field(title="Active caseload", default=None, ge=0, le=10000, description="Participants currently assigned to this peer.", json_schema_extra=_ask("How many participants are assigned to this peer right now?"))
    duties: list[ActivityCode] | None = Field(title="Duties",   # type: ignore[valid-type]
        default=None, max_length=100,
        description="Activities the peer is expected to do, as Appendix C activity codes (see `GET /v1/activities`).",
        json_schema_extra=_ask("Which of these activities is this peer expected to do?", "Choose every activity in the peer's job description or daily work, from the tool kit's list of peer roles and responsibilities (Appendix C)."),
    )
    other_roles: list[SubstituteRole] | None = Field(
        title="Other roles the peer is also used for",
        default=None, max_length=5,
        description="Other roles the peer is also used for. Use an empty list for none.",
        json_schema_extra=_ask("Is this peer also used in any of these other roles?", "Choose every role that applies, or none."),
    )
    employer_policies: EmployerPolicies | None = Field(title="Employer's policies", default=None, description="What the employer's policies allow.")
    # schema 1.2
    credential: Credential | None = Field(
        default=None, title="State credential held or sought",
        description="Which kind of state peer credential the peer holds or is working toward: `substance_use` "
        "(recovery coach, peer recovery specialist), `mental_health` (mental-health peer specialist) or `integrated` "
        "(one credential for both). Decides which of the state's stated requirements apply; unknown if absent. Since 1.2.",
        json_schema_extra=_ask("Which kind of state peer credential does this peer hold or work toward?",
                               "Decides which of the state's requirements apply."),
    )
    peer_support_training: PeerTraining | None = Field(
        title="Training in peer-support practice", default=None,
        description="Whether the peer has been trained in peer-support practice (state certification includes it), is being trained on the job under a written plan, or neither. Since 1.2.",
        json_schema_extra=_ask("Has this peer been trained in peer-support practice?", "State certification includes it; on-the-job training counts when it follows a written plan."),
    )
    pay_competitive: bool | None = Field(
        title="Pay competitive with similar roles", default=None,
        description="The peer's pay is competitive with other roles that have similar duties and responsibilities. Since 1.2.",
        json_schema_extra=_ask("Is this peer's pay competitive with other roles that have similar duties?"),
    )

    unique_lists = field_validator("lived_experience", "duties", "other_roles")(_unique)


class Supervision(_Strict):
    """How the peers are supervised."""

    provided_by: list[SupervisorKind] | None = Field(title="Who supervises the peers", default=None, max_length=5, description="Who supervises the peers (several for co-supervision).", json_schema_extra=_ask("Who supervises the peers?", "Choose everyone who does; several when supervision is shared."))
    frequency: SupervisionFrequency | None = Field(title="How often supervision happens", default=None, description="How often individual or group supervision happens.", json_schema_extra=_ask("How often do the peers have supervision?", "Individual or group supervision."))
    functions: list[SupervisionFunction] | None = Field(title="What supervision covers", default=None, max_length=3, description="Supervision functions covered: administrative, educative (formative), supportive.", json_schema_extra=_ask("What does the peers' supervision cover?", "Administrative: tasks, policies and paperwork. Educative: skills and professional growth. Supportive: stress, wellbeing and the peer's own recovery."))
    supervisor_lived_experience: bool | None = Field(title="Supervisor has lived experience of recovery", default=None, description="The supervisor providing supportive supervision has lived experience of recovery.", json_schema_extra=_ask("Does the supervisor who gives supportive supervision have lived experience of recovery?"))
    supervisor_peer_training: bool | None = Field(title="Supervisor trained in peer support", default=None, description="The supervisor is trained in the history, values and philosophy of peer support.", json_schema_extra=_ask("Is the supervisor trained in the history, values and philosophy of peer support?"))
    co_supervision: bool | None = Field(title="Co-supervision with a peer-experienced partner", default=None, description="Supervision is split between the host agency and a peer-experienced partner.", json_schema_extra=_ask("Is supervision shared between the host agency and a partner with peer experience?"))
    peer_network_contact: NetworkContact | None = Field(
        title="Contact with a peer network outside the agency",
        default=None, description="How often the peers meet a network of peer workers outside the agency.",
        json_schema_extra=_ask("How often do the peers meet peer workers from outside the agency?"),
    )
    # schema 1.1
    mental_health_professional: bool | None = Field(title="Supervised by a mental health professional", default=None, description="A competent mental health professional, as defined by the state, supervises the peers (a Medicaid requirement). Since 1.1.", json_schema_extra=_ask("Does a mental health professional, as the state defines one, supervise the peers?", "Medicaid requires it where a program bills Medicaid for peer services."))
    supervisor_champions_role: bool | None = Field(title="Supervisor champions the peer role", default=None, description="The supervisor champions peer roles within the agency. Since 1.1.", json_schema_extra=_ask("Does the supervisor champion the peer role within the agency?"))
    supervisor_dual_role: bool | None = Field(title="Supervisor is also a peer's therapist or sponsor", default=None, description="The supervisor also acts as a peer's therapist, diagnostician or sponsor. Since 1.1.", json_schema_extra=_ask("Is the supervisor also a peer's therapist, diagnostician or sponsor?"))
    ethics_discussed: bool | None = Field(title="Ethics and boundaries discussed in supervision", default=None, description="Ethics, boundaries and professionalism are discussed in supervision. Since 1.1.", json_schema_extra=_ask("Are ethics, boundaries and professionalism discussed in supervision?"))
    # schema 1.2
    supervisor_roles_documented: bool | None = Field(title="Each supervisor's role written down", default=None, description="Where more than one person supervises the peers, the role of each supervisor is identified in writing. Since 1.2.", json_schema_extra=_ask("Where more than one person supervises the peers, is each supervisor's role written down?"))
    supervisor_peer_work_experience: bool | None = Field(title="Supportive supervisor has worked as a peer", default=None, description="The supervisor who provides supportive supervision has experience providing peer support services. Since 1.2.", json_schema_extra=_ask("Has the supervisor who gives supportive supervision worked as a peer?"))

    unique_lists = field_validator("provided_by", "functions")(_unique)


class OutcomeInstrument(Labelled):
    barc_10 = "barc_10", "Brief Assessment of Recovery Capital (BARC-10)"
    ras = "ras", "Recovery Assessment Scale (RAS)"
    rpi = "rpi", "Recovery Progress Inventory (RPI)"
    other = "other", "Other"


def _flag(title: str, description: str, since: str | None = None, *, ask: str | None = None, help: str | None = None) -> Any:
    """A yes/no practice: ``title`` is its plain-language label, ``description`` says what yes means,
    ``ask`` the question a form asks (see ``_ask``)."""
    return Field(default=None, title=title, description=description + (f" Since {since}." if since else ""),
                 json_schema_extra=_ask(ask, help) if ask else None)


class Policies(_Strict):
    """Written policies and practices. `true` = in place, `false` = not in place, absent = unknown."""

    written_job_description: bool | None = _flag("Written job description", "A written job description for the peer role.", ask="Is there a written job description for the peer role?")
    consent_protocol: bool | None = _flag("Consent and release-of-information protocol", "A release-of-information / informed-consent protocol covering 42 CFR Part 2 and HIPAA.", ask="Is there a consent and release-of-information protocol that covers 42 CFR Part 2 and HIPAA?")
    safety_protocol: bool | None = _flag("Safety protocol for community and home visits", "A safety protocol for community and home-based work.", ask="Is there a safety protocol for work in the community and in homes?")
    # schema 1.1
    job_description_time_per_function: bool | None = _flag("Job description gives the time for each function", "The job description lists the activities and the time expected on each function.", "1.1", ask="Does the job description list the activities and the time expected on each?")
    individualized_plan_of_care: bool | None = _flag("Services coordinated in an individual plan of care", "Peer services are coordinated within an individualized, person-centred plan of care with measurable goals.", "1.1", ask="Are peer services coordinated within each participant's individual plan of care, with measurable goals?")
    continuing_education: bool | None = _flag("Continuing education for peers", "Peers have continuing education requirements or support.", "1.1", ask="Do peers have continuing education requirements or support?")
    peers_in_team_meetings: bool | None = _flag("Peers take part in team meetings", "Peers take part in team and staffing meetings.", "1.1", ask="Do peers take part in team and staffing meetings?")
    career_path: bool | None = _flag("Career path for peers", "The peer role has a career path (advancement, senior or supervisory peer roles).", "1.1", ask="Does the peer role have a career path, such as senior or supervisory peer roles?")
    regular_evaluation: bool | None = _flag("Regular performance evaluation", "Peers receive regular performance evaluation and feedback.", "1.1", ask="Do peers get regular performance evaluations and feedback?")
    privacy_training: bool | None = _flag("Training on privacy and mandated reporting", "Peers are trained on privacy rules (42 CFR Part 2, HIPAA) and on mandated reporting.", "1.1", ask="Are peers trained on privacy rules (42 CFR Part 2, HIPAA) and on mandated reporting?")
    relapse_shared_without_consent: bool | None = _flag("Relapse information shared without consent", "Relapse or test information learned by peers is shared with the court or supervision without the participant's consent.", "1.1", ask="Is relapse or test information that peers learn shared with the court or supervision without the participant's consent?")
    code_of_ethics: bool | None = _flag("Code of ethics for peers", "A code of ethics written for peer support workers.", "1.1", ask="Is there a code of ethics written for peer support workers?")
    boundaries_policy: bool | None = _flag("Boundaries policy", "A boundaries policy for peers (dual relationships, self-disclosure, gifts, contact outside work).", "1.1", ask="Is there a boundaries policy for peers?", help="Covering dual relationships, self-disclosure, gifts and contact outside work.")
    self_care_plans: bool | None = _flag("Self-care plans", "Peers have self-care / wellness plans.", "1.1", ask="Do peers have self-care or wellness plans?")
    burnout_screening: bool | None = _flag("Burnout and compassion-fatigue checks", "Compassion fatigue and burnout are checked (ProQOL or similar).", "1.1", ask="Are peers checked for compassion fatigue and burnout?", help="With the ProQOL or a similar tool.")
    crisis_debriefing: bool | None = _flag("Debriefing after a crisis", "Resources for immediate debriefing after a crisis.", "1.1", ask="Can peers debrief straight away after a crisis?")
    clinical_policies_applied_to_peers: bool | None = _flag("Clinical staff policies applied to peers unchanged", "Policies written for clinical staff are applied to peers unchanged.", "1.1", ask="Are policies written for clinical staff applied to peers unchanged?")
    safety_training: bool | None = _flag("Safety training for peers", "Peers are trained on safety in the community and in homes.", "1.1", ask="Are peers trained on safety in the community and in homes?")
    stakeholder_engagement: bool | None = _flag("Community partners engaged", "Community partners and stakeholders (courts, police, treatment, the recovery community) are engaged to promote a recovery orientation, e.g. cross-sector training.", "1.1", ask="Are community partners engaged to promote a recovery orientation?", help="Courts, police, treatment providers and the recovery community — for example through cross-sector training.")
    readiness_assessment: bool | None = _flag("Readiness self-assessment done", "An organisational readiness self-assessment was done.", "1.1", ask="Has the organisation done a readiness self-assessment?")
    leadership_support: bool | None = _flag("Leadership supports the program", "Agency leadership supports the peer program openly.", "1.1", ask="Does agency leadership openly support the peer program?")
    staff_trained_on_peer_role: bool | None = _flag("Existing staff trained on the peer role", "Existing staff were trained on the peer role and its value.", "1.1", ask="Were existing staff trained on the peer role and its value?")
    recovery_oriented_policy_review: bool | None = _flag("Agency policies reviewed for a recovery orientation", "Agency policies were reviewed to be recovery-oriented.", "1.1", ask="Were agency policies reviewed to make them recovery-oriented?")
    peer_input_into_policy: bool | None = _flag("Peers have a voice in policy", "Peers have a voice in the program's policies.", "1.1", ask="Do peers have a voice in the program's policies?")
    orientation_plan: bool | None = _flag("Orientation plan for new peers", "An orientation and onboarding plan for new peers.", "1.1", ask="Is there an orientation and onboarding plan for new peers?")
    outcome_measurement: bool | None = _flag("Plan to measure outcomes", "A plan to measure outcomes of peer services.", "1.1", ask="Is there a plan to measure the outcomes of peer services?")
    outcome_instruments: list[OutcomeInstrument] | None = Field(title="Outcome measurement instruments", default=None, max_length=4, description="Instruments used to measure outcomes (BARC-10, RAS, RPI, other). Since 1.1.", json_schema_extra=_ask("Which instruments are used to measure outcomes?", "Choose every one in use."))
    role_described_as_sponsor: bool | None = _flag("Peer described as a 12-step sponsor", "Program documents describe the peer as a 12-step sponsor.", "1.1", ask="Do program documents describe the peer as a 12-step sponsor?")
    # schema 1.2
    intimate_relations_prohibited: bool | None = _flag("Written ban on sexual or intimate relationships with participants", "A written policy or code that peers never engage in sexual or intimate relations with the people they serve.", "1.2", ask="Is there a written rule that peers never have sexual or intimate relationships with the people they serve?")
    recovery_threat_procedure: bool | None = _flag("Procedure when a peer's own recovery is threatened", "A written procedure for when a peer's own recovery is threatened: whom the peer contacts, time off, outside support, and how they return to work.", "1.2", ask="Is there a written procedure for when a peer's own recovery is threatened?", help="Whom the peer contacts, time off, outside support, and how they return to work.")
    leadership_trained: bool | None = _flag("Senior leadership trained on peer support", "Senior leadership has been trained on the value, outcomes and core practices of peer support.", "1.2", ask="Has senior leadership been trained on the value, outcomes and core practices of peer support?")
    boundaries_training: bool | None = _flag("Boundaries training for peers", "Peers are trained to recognise when they are becoming too involved or a participant too dependent on them.", "1.2", ask="Are peers trained to notice when they become too involved, or a participant too dependent on them?")
    peer_client_history_private: bool | None = _flag("A peer's own history as a client kept private", "Where a peer was once a client of the organisation, their earlier records and experience are kept private from coworkers.", "1.2", ask="Where a peer was once a client of the organisation, are their earlier records kept private from coworkers?")

    unique_lists = field_validator("outcome_instruments")(_unique)


class Hiring(_Strict):
    """How peers are recruited and hired. `true` = the practice is in place. Since schema 1.1."""

    background_check_framework: bool | None = _flag("Decision framework for background checks", "A written decision framework for background checks.", ask="Is there a written decision framework for background checks?")
    blanket_conviction_exclusion: bool | None = _flag("Applicants with convictions excluded automatically", "Applicants with past convictions related to mental illness or substance use are excluded automatically.", ask="Are applicants with past convictions related to mental illness or substance use excluded automatically?")
    interview_asks_diagnosis: bool | None = _flag("Interviews ask about diagnosis or treatment", "Interviews ask about the nature or severity of a diagnosis or treatment.", ask="Do interviews ask about the nature or severity of a diagnosis or treatment?")
    excludes_history_of_sud: bool | None = _flag("Applicants refused for a history of substance use disorder", "Candidates are refused for a history of substance use disorder.", ask="Are candidates refused for a history of substance use disorder?")
    posting_names_justice_setting: bool | None = _flag("Job posting names the justice setting", "The job posting says the work is in a criminal-justice agency.", ask="Does the job posting say the work is in a criminal-justice agency?")
    committee_includes_peer_expertise: bool | None = _flag("Hiring committee includes peer expertise", "The hiring committee includes a service recipient or someone who knows peer support.", ask="Does the hiring committee include a service recipient or someone who knows peer support?")
    peers_involved_in_hiring: bool | None = _flag("Peers take part in hiring", "Peers take part in hiring peers.", ask="Do peers take part in hiring peers?")
    # schema 1.2
    interview_covers_peer_practice: bool | None = _flag("Interviews ask about peer-support practice", "Interviews ask candidates about their understanding of and training in peer support, and how they would use a peer-support approach in situations the role meets.", "1.2", ask="Do interviews ask candidates about peer-support practice?", help="Their understanding of and training in peer support, and how they would use it in situations the role meets.")
    reference_checks_disclose_lived_experience: bool | None = _flag("Reference checks reveal the lived-experience requirement", "When checking references, the employer tells referees that the position requires lived experience of a mental health or substance use issue.", "1.2", ask="When checking references, does the employer tell referees that the position requires lived experience?")


class Acknowledgement(_Strict):
    """A risk the program has reviewed and accepts, with its reason. Reported, never dropped."""

    rule_id: Annotated[str, StringConstraints(pattern=r"^PC-[A-Z]+-[0-9]{3}$")] = Field(title="Rule", description="The rule whose finding is acknowledged.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)] = Field(title="Reason", description="Why the program accepts this risk.")
    subject: Annotated[str, StringConstraints(pattern=r"^(/peers/[0-9]{1,3})?$")] | None = Field(
        title="Applies to",
        default=None, description="Limit to one subject: '' for the program, '/peers/N' for a peer; absent = every subject."
    )


_SECTIONS: dict[str, type[BaseModel]] = {"program": Program, "supervision": Supervision, "policies": Policies, "hiring": Hiring}


def _answerable(model: type[BaseModel], name: str) -> bool:
    """An optional fact about the program (not an identifier, not a group of fields)."""
    field = model.model_fields.get(name)
    return field is not None and not field.is_required() and name != "id" and not (model is Peer and name == "employer_policies")


_POINTER = re.compile(r"/(program|supervision|policies|hiring)/[a-z_]+|/peers/(0|[1-9][0-9]{0,2})/[a-z_]+(/[a-z_]+)?")


def _dont_know_pointer(pointer: str) -> str:
    if not _POINTER.fullmatch(pointer):
        raise ValueError("not a JSON pointer to a field of the profile, such as /peers/0/months_in_recovery")
    parts = pointer.split("/")[1:]
    if parts[0] == "peers":
        model, names = Peer, parts[2:]
        if names[0] == "employer_policies" and len(names) == 2:
            model, names = EmployerPolicies, names[1:]
    else:
        model, names = _SECTIONS[parts[0]], parts[1:]
    if len(names) != 1 or not _answerable(model, names[0]):
        raise ValueError(f"{pointer} is not an optional field of the profile")
    return pointer


DontKnowPointer = Annotated[str, StringConstraints(max_length=100), AfterValidator(_dont_know_pointer)]


class Profile(_Strict):
    """A program profile: the input to every evaluation."""

    schema_version: Literal["1.0", "1.1", "1.2"] = Field(title="Profile schema version", description="Version of this profile schema: `1.2` (current), `1.1` or `1.0`. A profile may carry only the fields of the version it declares (a later field's description ends \"Since 1.1.\" or \"Since 1.2.\"); every 1.0 and 1.1 profile is a valid 1.2 profile.")
    program: Program = Field(title="Program", description="Where the program sits, who hosts it, how people come to it, who pays.")
    peers: list[Peer] = Field(title="Peers", min_length=1, max_length=500, description="Peer staff (or planned positions); at least one.", json_schema_extra=_ask("Which peer positions does the program have?", "List each one, filled or planned, by its job title. The next questions ask about each peer in turn."))
    supervision: Supervision | None = Field(title="Supervision", default=None, description="How peers are supervised; unknown if absent.")
    policies: Policies | None = Field(title="Policies and practices", default=None, description="Written policies and practices; unknown if absent.")
    hiring: Hiring | None = Field(title="Hiring", default=None, description="Recruitment and hiring practices; unknown if absent. Since 1.1.")
    acknowledged: list[Acknowledgement] | None = Field(
        title="Acknowledged risks",
        default=None, max_length=200,
        description="Risks the program has reviewed and accepts: their findings are reported as acknowledged, with the reason, and do not count as open.",
    )
    dont_know: list[DontKnowPointer] | None = Field(
        title="Questions answered \"don't know\"",
        default=None, max_length=10000,
        description="JSON pointers of the fields the program was asked about and does not know, e.g. "
        "`/peers/0/months_in_recovery`: each names an optional field left empty. Rules that need one stay "
        "'needs information' (and say so), and the next questions do not ask it again. Since 1.2.",
    )

    @field_validator("dont_know")
    @classmethod
    def dont_know_fields_are_empty(cls, pointers: list[str] | None, info: ValidationInfo) -> list[str] | None:
        """Each "don't know" names a field this profile leaves empty: of a peer it lists, and not
        answered as well (the two would contradict each other)."""
        if pointers is None:
            return None
        if len(set(pointers)) != len(pointers):
            raise ValueError("items must be unique")
        peers = info.data.get("peers")
        for pointer in pointers:
            parts = pointer.split("/")[1:]
            if parts[0] == "peers":
                if peers is None:  # the peers are invalid, and reported as such
                    continue
                index = int(parts[1])
                if index >= len(peers):
                    raise ValueError(f"{pointer} names peer {index + 1}, but the profile lists {len(peers)}")
                node: Any = peers[index]
                for name in parts[2:]:
                    node = getattr(node, name, None) if node is not None else None
            else:
                section = info.data.get(parts[0])
                node = getattr(section, parts[1], None) if section is not None else None
            if node is not None:
                raise ValueError(f"{pointer} is answered and also listed as \"don't know\": keep one")
        return pointers

    @model_validator(mode="after")
    def consistent(self) -> "Profile":
        """What no single field can check: fields newer than the declared schema version, peer
        ids used twice, acknowledgements of a peer the profile does not have. Each problem names
        its own field."""
        errors = [*_newer_fields(self, _version(self.schema_version), ()), *_repeated_peer_ids(self),
                  *_unknown_subjects(self)]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


def _newer_fields(model: BaseModel, declared: tuple[int, ...], loc: tuple) -> list[InitErrorDetails]:
    errors: list[InitErrorDetails] = []
    plan = _versioned(type(model))
    if declared >= _NEWEST[type(model)]:  # nothing below is newer than the declared version
        return errors
    fields_set = model.model_fields_set
    for name, added, nested in plan:
        if name not in fields_set:
            continue
        value = getattr(model, name)
        if value is None:
            continue
        if added and added > declared:
            errors.append(InitErrorDetails(
                type=PydanticCustomError("newer_field", "this field was added in schema {since}; the profile declares {declared}",
                                         {"since": ".".join(map(str, added)), "declared": ".".join(map(str, declared))}),
                loc=(*loc, name), input=value))
            continue
        if not nested:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                where = (*loc, name, index) if isinstance(value, list) else (*loc, name)
                errors.extend(_newer_fields(item, declared, where))
    return errors


# Per model class: (field, version that added it or None, whether it may hold a model with such
# fields) for the fields the version check must look at, in schema order; and the newest version
# added anywhere below the class. Worked out once per class rather than per profile.
_PLANS: dict[type, tuple[tuple[str, tuple[int, ...] | None, bool], ...]] = {}
_NEWEST: dict[type, tuple[int, ...]] = {}


def _versioned(cls: type[BaseModel]) -> tuple[tuple[str, tuple[int, ...] | None, bool], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    return plan


def _plan(cls: type[BaseModel]) -> tuple[tuple[str, tuple[int, ...] | None, bool], ...]:
    out = []
    newest: tuple[int, ...] = ()
    for name, info in cls.model_fields.items():
        since = added_in(info.description)
        added = _version(since) if since else None
        inner = [kind for kind in _types_in(info.annotation) if isinstance(kind, type) and issubclass(kind, BaseModel)]
        for kind in inner:
            _versioned(kind)
        below = max((_NEWEST[kind] for kind in inner), default=())
        if added or below:
            out.append((name, added, bool(below)))
            newest = max(newest, added or (), below)
    _NEWEST[cls] = newest
    return tuple(out)


def _types_in(annotation: Any) -> list[Any]:
    """The types inside ``X | None``, ``list[X]``, ``Annotated[...]``."""
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [inner for arg in args for inner in _types_in(arg)]


def _repeated_peer_ids(profile: "Profile") -> list[InitErrorDetails]:
    first: dict[str, int] = {}
    errors: list[InitErrorDetails] = []
    for index, peer in enumerate(profile.peers):
        if peer.id is None:
            continue
        if peer.id in first:
            errors.append(InitErrorDetails(
                type=PydanticCustomError("duplicate_peer_id", "peer {first} has the same id", {"first": first[peer.id]}),
                loc=("peers", index, "id"), input=peer.id))
        else:
            first[peer.id] = index
    return errors


def _unknown_subjects(profile: "Profile") -> list[InitErrorDetails]:
    return [
        InitErrorDetails(
            type=PydanticCustomError("unknown_subject", "the profile has no peer {index}",
                                     {"index": int(ack.subject.rsplit("/", 1)[1]), "peers": len(profile.peers)}),
            loc=("acknowledged", i, "subject"), input=ack.subject)
        for i, ack in enumerate(profile.acknowledged or ())
        if ack.subject and int(ack.subject.rsplit("/", 1)[1]) >= len(profile.peers)
    ]
