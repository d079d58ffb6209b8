"""The program profile: what a caller tells PeerCheck about one program.

Every field is documented because this model *is* the API's request schema. Fields the
guidance needs but a caller may not know are optional: ``null`` or absent means "unknown",
and a rule that needs an unknown field reports "needs information" rather than passing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from engine.catalog import activity_codes

SCHEMA_VERSION = "1.1"
SCHEMA_VERSIONS = ("1.0", "1.1", "1.2")

ActivityCode = Literal[activity_codes()]  # type: ignore[valid-type]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Labelled(StrEnum):
    """A code with a plain-language label: the code is what the API exchanges, the label is what
    people read (forms, reports, error messages). ``Member.label`` gives it; the JSON schema lists
    the labels under ``x-enum-labels``."""

    label: str

    def __new__(cls, value: str, label: str) -> "Labelled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {member.value: member.label for member in cls}

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
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=2000)


def _unique(values: list | None) -> list | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("items must be unique")
    return values


class Program(_Strict):
    """The program as a whole: where it sits, who hosts it, how people come to it, who pays."""

    name: ShortText = Field(title="Program name", description="The program's name, as it appears in its own documents.")
    state: USState = Field(title="State", description="USPS code of the state (or DC / territory) the program operates in; decides which certification and recovery requirements apply.")
    intercepts: list[Annotated[int, Field(ge=0, le=5)]] | None = Field(
        title="Sequential Intercept Model points served",
        default=None, max_length=6,
        description="Sequential Intercept Model points served: 0 community services, 1 law enforcement, 2 initial detention / first court appearance, 3 jails and courts, 4 reentry, 5 community corrections.",
    )
    host_agency: HostAgency | None = Field(title="Host agency", default=None, description="The kind of agency the program runs in.")
    referral_pathways: list[ReferralPathway] | None = Field(
        title="How participants come to peer support",
        default=None, max_length=4,
        description="How participants come to peer support: voluntary referral, an incentive, a court order, or a condition of supervision. Unknown if absent.",
    )
    funding: list[Funding] | None = Field(
        title="Funding",
        default=None, max_length=9,
        description="Funding streams; `medicaid` means the program bills Medicaid for peer services.",
    )
    # schema 1.2
    secure_funding: bool | None = Field(
        title="Secure funding for the peer positions", default=None,
        description="The peer positions have a secure funding source: funding committed beyond the current grant or budget period. Since 1.2.",
    )
    peer_led_partnership: bool | None = Field(
        title="Partnership with a peer-led organisation", default=None,
        description="The program has a partnership with a peer-led organisation that gives the peers training, support, and peer-specific supervision or mentoring. Since 1.2.",
    )

    unique_lists = field_validator("intercepts", "referral_pathways", "funding")(_unique)


class EmployerPolicies(_Strict):
    """What the peer's employer allows; decides whether some duties can be done at all."""

    transport_allowed: bool | None = Field(title="Employer allows the peer to drive participants", default=None, description="The employer lets the peer transport participants.")
    solo_home_visits_allowed: bool | None = Field(title="Employer allows home visits without other staff", default=None, description="The employer lets the peer visit participants' homes without an officer or other staff member.")


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
    title: ShortText = Field(title="Job title", description="Role title, e.g. 'Peer Recovery Specialist' (Appendix A / COSSAP Table C titles).")
    fte: float | None = Field(
        title="Full-time equivalent (FTE)",
        default=None, ge=0.01, le=1,
        description="Full-time equivalent, in (0, 1] and at least 0.01 (a position under half an hour a week is not one). Caseload is judged per FTE.",
    )
    employer: Employer | None = Field(title="Employer", default=None, description="Who employs the peer: the justice agency itself, a partner treatment agency, a peer-run organisation, or a contractor.")
    pay_basis: PayBasis | None = Field(title="How the peer is paid", default=None, description="How the peer is paid.")
    benefits: bool | None = Field(title="Employee benefits", default=None, description="The position carries employee benefits.")
    living_wage: bool | None = Field(title="Paid a living wage", default=None, description="Pay is at least a living wage for the area.")
    certification: Certification | None = Field(title="State peer certification", default=None, description="State peer certification status.")
    lived_experience: list[LivedExperience] | None = Field(title="Lived experience", default=None, max_length=3, description="Kinds of lived experience the peer brings.")
    months_in_recovery: int | None = Field(
        title="Months in recovery",
        default=None, ge=0, le=1200,
        description="Optional and sensitive: months in recovery. Used only against the state's requirement; never logged.",
    )
    active_caseload: int | None = Field(title="Active caseload", default=None, ge=0, le=10000, description="Participants currently assigned to this peer.")
    duties: list[ActivityCode] | None = Field(title="Duties",   # type: ignore[valid-type]
        default=None, max_length=100,
        description="Activities the peer is expected to do, as Appendix C activity codes (see `GET /v1/activities`).",
    )
    other_roles: list[SubstituteRole] | None = Field(
        title="Other roles the peer is also used for",
        default=None, max_length=5,
        description="Other roles the peer is also used for. Use an empty list for none.",
    )
    employer_policies: EmployerPolicies | None = Field(title="Employer's policies", default=None, description="What the employer's policies allow.")
    # schema 1.2
    credential: Credential | None = Field(
        default=None, title="State credential held or sought",
        description="Which kind of state peer credential the peer holds or is working toward: `substance_use` "
        "(recovery coach, peer recovery specialist), `mental_health` (mental-health peer specialist) or `integrated` "
        "(one credential for both). Decides which of the state's stated requirements apply; unknown if absent. Since 1.2.",
    )
    peer_support_training: PeerTraining | None = Field(
        title="Training in peer-support practice", default=None,
        description="Whether the peer has been trained in peer-support practice (state certification includes it), is being trained on the job under a written plan, or neither. Since 1.2.",
    )
    pay_competitive: bool | None = Field(
        title="Pay competitive with similar roles", default=None,
        description="The peer's pay is competitive with other roles that have similar duties and responsibilities. Since 1.2.",
    )

    unique_lists = field_validator("lived_experience", "duties", "other_roles")(_unique)


class Supervision(_Strict):
    """How the peers are supervised."""

    provided_by: list[SupervisorKind] | None = Field(title="Who supervises the peers", default=None, max_length=5, description="Who supervises the peers (several for co-supervision).")
    frequency: SupervisionFrequency | None = Field(title="How often supervision happens", default=None, description="How often individual or group supervision happens.")
    functions: list[SupervisionFunction] | None = Field(title="What supervision covers", default=None, max_length=3, description="Supervision functions covered: administrative, educative (formative), supportive.")
    supervisor_lived_experience: bool | None = Field(title="Supervisor has lived experience of recovery", default=None, description="The supervisor providing supportive supervision has lived experience of recovery.")
    supervisor_peer_training: bool | None = Field(title="Supervisor trained in peer support", default=None, description="The supervisor is trained in the history, values and philosophy of peer support.")
    co_supervision: bool | None = Field(title="Co-supervision with a peer-experienced partner", default=None, description="Supervision is split between the host agency and a peer-experienced partner.")
    peer_network_contact: NetworkContact | None = Field(
        title="Contact with a peer network outside the agency",
        default=None, description="How often the peers meet a network of peer workers outside the agency."
    )
    # schema 1.1
    mental_health_professional: bool | None = Field(title="Supervised by a mental health professional", default=None, description="A competent mental health professional, as defined by the state, supervises the peers (a Medicaid requirement). Since 1.1.")
    supervisor_champions_role: bool | None = Field(title="Supervisor champions the peer role", default=None, description="The supervisor champions peer roles within the agency. Since 1.1.")
    supervisor_dual_role: bool | None = Field(title="Supervisor is also a peer's therapist or sponsor", default=None, description="The supervisor also acts as a peer's therapist, diagnostician or sponsor. Since 1.1.")
    ethics_discussed: bool | None = Field(title="Ethics and boundaries discussed in supervision", default=None, description="Ethics, boundaries and professionalism are discussed in supervision. Since 1.1.")
    # schema 1.2
    supervisor_roles_documented: bool | None = Field(title="Each supervisor's role written down", default=None, description="Where more than one person supervises the peers, the role of each supervisor is identified in writing. Since 1.2.")
    supervisor_peer_work_experience: bool | None = Field(title="Supportive supervisor has worked as a peer", default=None, description="The supervisor who provides supportive supervision has experience providing peer support services. Since 1.2.")

    unique_lists = field_validator("provided_by", "functions")(_unique)


class OutcomeInstrument(Labelled):
    barc_10 = "barc_10", "Brief Assessment of Recovery Capital (BARC-10)"
    ras = "ras", "Recovery Assessment Scale (RAS)"
    rpi = "rpi", "Recovery Progress Inventory (RPI)"
    other = "other", "Other"


def _flag(title: str, description: str, since: str | None = None) -> Any:
    """A yes/no practice: ``title`` is its plain-language label, ``description`` says what yes means."""
    return Field(default=None, title=title, description=description + (f" Since {since}." if since else ""))


class Policies(_Strict):
    """Written policies and practices. `true` = in place, `false` = not in place, absent = unknown."""

    written_job_description: bool | None = _flag("Written job description", "A written job description for the peer role.")
    consent_protocol: bool | None = _flag("Consent and release-of-information protocol", "A release-of-information / informed-consent protocol covering 42 CFR Part 2 and HIPAA.")
    safety_protocol: bool | None = _flag("Safety protocol for community and home visits", "A safety protocol for community and home-based work.")
    # schema 1.1
    job_description_time_per_function: bool | None = _flag("Job description gives the time for each function", "The job description lists the activities and the time expected on each function.", "1.1")
    individualized_plan_of_care: bool | None = _flag("Services coordinated in an individual plan of care", "Peer services are coordinated within an individualized, person-centred plan of care with measurable goals.", "1.1")
    continuing_education: bool | None = _flag("Continuing education for peers", "Peers have continuing education requirements or support.", "1.1")
    peers_in_team_meetings: bool | None = _flag("Peers take part in team meetings", "Peers take part in team and staffing meetings.", "1.1")
    career_path: bool | None = _flag("Career path for peers", "The peer role has a career path (advancement, senior or supervisory peer roles).", "1.1")
    regular_evaluation: bool | None = _flag("Regular performance evaluation", "Peers receive regular performance evaluation and feedback.", "1.1")
    privacy_training: bool | None = _flag("Training on privacy and mandated reporting", "Peers are trained on privacy rules (42 CFR Part 2, HIPAA) and on mandated reporting.", "1.1")
    relapse_shared_without_consent: bool | None = _flag("Relapse information shared without consent", "Relapse or test information learned by peers is shared with the court or supervision without the participant's consent.", "1.1")
    code_of_ethics: bool | None = _flag("Code of ethics for peers", "A code of ethics written for peer support workers.", "1.1")
    boundaries_policy: bool | None = _flag("Boundaries policy", "A boundaries policy for peers (dual relationships, self-disclosure, gifts, contact outside work).", "1.1")
    self_care_plans: bool | None = _flag("Self-care plans", "Peers have self-care / wellness plans.", "1.1")
    burnout_screening: bool | None = _flag("Burnout and compassion-fatigue checks", "Compassion fatigue and burnout are checked (ProQOL or similar).", "1.1")
    crisis_debriefing: bool | None = _flag("Debriefing after a crisis", "Resources for immediate debriefing after a crisis.", "1.1")
    clinical_policies_applied_to_peers: bool | None = _flag("Clinical staff policies applied to peers unchanged", "Policies written for clinical staff are applied to peers unchanged.", "1.1")
    safety_training: bool | None = _flag("Safety training for peers", "Peers are trained on safety in the community and in homes.", "1.1")
    stakeholder_engagement: bool | None = _flag("Community partners engaged", "Community partners and stakeholders (courts, police, treatment, the recovery community) are engaged to promote a recovery orientation, e.g. cross-sector training.", "1.1")
    readiness_assessment: bool | None = _flag("Readiness self-assessment done", "An organisational readiness self-assessment was done.", "1.1")
    leadership_support: bool | None = _flag("Leadership supports the program", "Agency leadership supports the peer program openly.", "1.1")
    staff_trained_on_peer_role: bool | None = _flag("Existing staff trained on the peer role", "Existing staff were trained on the peer role and its value.", "1.1")
    recovery_oriented_policy_review: bool | None = _flag("Agency policies reviewed for a recovery orientation", "Agency policies were reviewed to be recovery-oriented.", "1.1")
    peer_input_into_policy: bool | None = _flag("Peers have a voice in policy", "Peers have a voice in the program's policies.", "1.1")
    orientation_plan: bool | None = _flag("Orientation plan for new peers", "An orientation and onboarding plan for new peers.", "1.1")
    outcome_measurement: bool | None = _flag("Plan to measure outcomes", "A plan to measure outcomes of peer services.", "1.1")
    outcome_instruments: list[OutcomeInstrument] | None = Field(title="Outcome measurement instruments", default=None, max_length=4, description="Instruments used to measure outcomes (BARC-10, RAS, RPI, other). Since 1.1.")
    role_described_as_sponsor: bool | None = _flag("Peer described as a 12-step sponsor", "Program documents describe the peer as a 12-step sponsor.", "1.1")
    # schema 1.2
    intimate_relations_prohibited: bool | None = _flag("Written ban on sexual or intimate relationships with participants", "A written policy or code that peers never engage in sexual or intimate relations with the people they serve.", "1.2")
    recovery_threat_procedure: bool | None = _flag("Procedure when a peer's own recovery is threatened", "A written procedure for when a peer's own recovery is threatened: whom the peer contacts, time off, outside support, and how they return to work.", "1.2")
    leadership_trained: bool | None = _flag("Senior leadership trained on peer support", "Senior leadership has been trained on the value, outcomes and core practices of peer support.", "1.2")
    boundaries_training: bool | None = _flag("Boundaries training for peers", "Peers are trained to recognise when they are becoming too involved or a participant too dependent on them.", "1.2")
    peer_client_history_private: bool | None = _flag("A peer's own history as a client kept private", "Where a peer was once a client of the organisation, their earlier records and experience are kept private from coworkers.", "1.2")

    unique_lists = field_validator("outcome_instruments")(_unique)


class Hiring(_Strict):
    """How peers are recruited and hired. `true` = the practice is in place. Since schema 1.1."""

    background_check_framework: bool | None = _flag("Decision framework for background checks", "A written decision framework for background checks.")
    blanket_conviction_exclusion: bool | None = _flag("Applicants with convictions excluded automatically", "Applicants with past convictions related to mental illness or substance use are excluded automatically.")
    interview_asks_diagnosis: bool | None = _flag("Interviews ask about diagnosis or treatment", "Interviews ask about the nature or severity of a diagnosis or treatment.")
    excludes_history_of_sud: bool | None = _flag("Applicants refused for a history of substance use disorder", "Candidates are refused for a history of substance use disorder.")
    posting_names_justice_setting: bool | None = _flag("Job posting names the justice setting", "The job posting says the work is in a criminal-justice agency.")
    committee_includes_peer_expertise: bool | None = _flag("Hiring committee includes peer expertise", "The hiring committee includes a service recipient or someone who knows peer support.")
    peers_involved_in_hiring: bool | None = _flag("Peers take part in hiring", "Peers take part in hiring peers.")
    # schema 1.2
    interview_covers_peer_practice: bool | None = _flag("Interviews ask about peer-support practice", "Interviews ask candidates about their understanding of and training in peer support, and how they would use a peer-support approach in situations the role meets.", "1.2")
    reference_checks_disclose_lived_experience: bool | None = _flag("Reference checks reveal the lived-experience requirement", "When checking references, the employer tells referees that the position requires lived experience of a mental health or substance use issue.", "1.2")


class Acknowledgement(_Strict):
    """A risk the program has reviewed and accepts, with its reason. Reported, never dropped."""

    rule_id: Annotated[str, StringConstraints(pattern=r"^PC-[A-Z]+-[0-9]{3}$")] = Field(title="Rule", description="The rule whose finding is acknowledged.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)] = Field(title="Reason", description="Why the program accepts this risk.")
    subject: Annotated[str, StringConstraints(pattern=r"^(/peers/[0-9]{1,3})?$")] | None = Field(
        title="Applies to",
        default=None, description="Limit to one subject: '' for the program, '/peers/N' for a peer; absent = every subject."
    )


class Profile(_Strict):
    """A program profile: the input to every evaluation."""

    schema_version: Literal["1.0", "1.1", "1.2"] = Field(title="Profile schema version", description="Version of this profile schema: `1.2`, `1.1` or `1.0`; every 1.0 and 1.1 profile is a valid 1.2 profile.")
    program: Program = Field(title="Program", description="Where the program sits, who hosts it, how people come to it, who pays.")
    peers: list[Peer] = Field(title="Peers", min_length=1, max_length=500, description="Peer staff (or planned positions); at least one.")
    supervision: Supervision | None = Field(title="Supervision", default=None, description="How peers are supervised; unknown if absent.")
    policies: Policies | None = Field(title="Policies and practices", default=None, description="Written policies and practices; unknown if absent.")
    hiring: Hiring | None = Field(title="Hiring", default=None, description="Recruitment and hiring practices; unknown if absent. Since 1.1.")
    acknowledged: list[Acknowledgement] | None = Field(
        title="Acknowledged risks",
        default=None, max_length=200,
        description="Risks the program has reviewed and accepts: their findings are reported as acknowledged, with the reason, and do not count as open.",
    )

    @model_validator(mode="after")
    def peer_ids_unique(self) -> "Profile":
        ids = [p.id for p in self.peers if p.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("peer ids must be unique")
        return self
