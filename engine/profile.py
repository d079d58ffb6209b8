"""The program profile: what a caller tells PeerCheck about one program.

Every field is documented because this model *is* the API's request schema. Fields the
guidance needs but a caller may not know are optional: ``null`` or absent means "unknown",
and a rule that needs an unknown field reports "needs information" rather than passing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from engine.catalog import CredentialKind, activity_codes

SCHEMA_VERSION = "1.1"
SCHEMA_VERSIONS = ("1.0", "1.1")

ActivityCode = Literal[activity_codes()]  # type: ignore[valid-type]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class USState(StrEnum):
    """USPS codes of the 50 states, the District of Columbia and the inhabited territories."""

    AL = "AL"; AK = "AK"; AZ = "AZ"; AR = "AR"; CA = "CA"; CO = "CO"; CT = "CT"; DE = "DE"  # noqa: E702
    FL = "FL"; GA = "GA"; HI = "HI"; ID = "ID"; IL = "IL"; IN = "IN"; IA = "IA"; KS = "KS"  # noqa: E702
    KY = "KY"; LA = "LA"; ME = "ME"; MD = "MD"; MA = "MA"; MI = "MI"; MN = "MN"; MS = "MS"  # noqa: E702
    MO = "MO"; MT = "MT"; NE = "NE"; NV = "NV"; NH = "NH"; NJ = "NJ"; NM = "NM"; NY = "NY"  # noqa: E702
    NC = "NC"; ND = "ND"; OH = "OH"; OK = "OK"; OR = "OR"; PA = "PA"; RI = "RI"; SC = "SC"  # noqa: E702
    SD = "SD"; TN = "TN"; TX = "TX"; UT = "UT"; VT = "VT"; VA = "VA"; WA = "WA"; WV = "WV"  # noqa: E702
    WI = "WI"; WY = "WY"; DC = "DC"; PR = "PR"; GU = "GU"; VI = "VI"; AS = "AS"; MP = "MP"  # noqa: E702


class HostAgency(StrEnum):
    police = "police"
    court = "court"
    treatment_court = "treatment_court"
    jail = "jail"
    prison = "prison"
    probation_parole = "probation_parole"
    health_department = "health_department"
    treatment_provider = "treatment_provider"
    peer_run_organization = "peer_run_organization"
    other = "other"


class ReferralPathway(StrEnum):
    voluntary = "voluntary"
    incentive = "incentive"
    court_ordered = "court_ordered"
    condition_of_supervision = "condition_of_supervision"


class Funding(StrEnum):
    cossap = "cossap"
    medicaid = "medicaid"
    sor = "sor"
    drug_court_grant = "drug_court_grant"
    county = "county"
    canteen = "canteen"
    state = "state"
    other_grant = "other_grant"
    other = "other"


class Employer(StrEnum):
    justice_agency = "justice_agency"
    treatment_agency = "treatment_agency"
    peer_run_organization = "peer_run_organization"
    contractor = "contractor"
    other = "other"


class PayBasis(StrEnum):
    salaried = "salaried"
    hourly_employee = "hourly_employee"
    hourly_contract = "hourly_contract"
    stipend = "stipend"
    volunteer = "volunteer"


class Certification(StrEnum):
    certified = "certified"
    in_progress = "in_progress"
    not_certified = "not_certified"


class LivedExperience(StrEnum):
    substance_use = "substance_use"
    mental_health = "mental_health"
    justice_involvement = "justice_involvement"


class SubstituteRole(StrEnum):
    """Roles the tool kit says a peer must not be used as a substitute for."""

    case_aide = "case_aide"
    case_manager = "case_manager"
    errand_runner = "errand_runner"
    van_driver = "van_driver"
    community_supervision_officer = "community_supervision_officer"


class SupervisorKind(StrEnum):
    justice_agency_staff = "justice_agency_staff"
    clinical_professional = "clinical_professional"
    peer_supervisor = "peer_supervisor"
    partner_agency_staff = "partner_agency_staff"
    other = "other"


class SupervisionFrequency(StrEnum):
    weekly = "weekly"
    biweekly = "biweekly"
    monthly = "monthly"
    ad_hoc = "ad_hoc"
    none = "none"


class SupervisionFunction(StrEnum):
    administrative = "administrative"
    educative = "educative"
    supportive = "supportive"


class NetworkContact(StrEnum):
    none = "none"
    less_than_monthly = "less_than_monthly"
    monthly = "monthly"
    weekly = "weekly"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=2000)


def _unique(values: list | None) -> list | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("items must be unique")
    return values


class Program(_Strict):
    """The program as a whole: where it sits, who hosts it, how people come to it, who pays."""

    name: ShortText = Field(description="The program's name, as it appears in its own documents.")
    state: USState = Field(description="USPS code of the state (or DC / territory) the program operates in; decides which certification and recovery requirements apply.")
    intercepts: list[Annotated[int, Field(ge=0, le=5)]] | None = Field(
        default=None, max_length=6,
        description="Sequential Intercept Model points served: 0 community services, 1 law enforcement, 2 initial detention / first court appearance, 3 jails and courts, 4 reentry, 5 community corrections.",
    )
    host_agency: HostAgency | None = Field(default=None, description="The kind of agency the program runs in.")
    referral_pathways: list[ReferralPathway] | None = Field(
        default=None, max_length=4,
        description="How participants come to peer support: voluntary referral, an incentive, a court order, or a condition of supervision. Unknown if absent.",
    )
    funding: list[Funding] | None = Field(
        default=None, max_length=9,
        description="Funding streams; `medicaid` means the program bills Medicaid for peer services.",
    )

    unique_lists = field_validator("intercepts", "referral_pathways", "funding")(_unique)


class EmployerPolicies(_Strict):
    """What the peer's employer allows; decides whether some duties can be done at all."""

    transport_allowed: bool | None = Field(default=None, description="The employer lets the peer transport participants.")
    solo_home_visits_allowed: bool | None = Field(default=None, description="The employer lets the peer visit participants' homes without an officer or other staff member.")


class Peer(_Strict):
    """One peer support worker (or one planned position)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] | None = Field(
        default=None, description="The caller's stable id for this peer record (letters, digits, `._:-`); echoed in findings."
    )
    title: ShortText = Field(description="Role title, e.g. 'Peer Recovery Specialist' (Appendix A / COSSAP Table C titles).")
    fte: float | None = Field(
        default=None, ge=0.01, le=1,
        description="Full-time equivalent, in (0, 1] and at least 0.01 (a position under half an hour a week is not one). Caseload is judged per FTE.",
    )
    employer: Employer | None = Field(default=None, description="Who employs the peer: the justice agency itself, a partner treatment agency, a peer-run organisation, or a contractor.")
    pay_basis: PayBasis | None = Field(default=None, description="How the peer is paid.")
    benefits: bool | None = Field(default=None, description="The position carries employee benefits.")
    living_wage: bool | None = Field(default=None, description="Pay is at least a living wage for the area.")
    certification: Certification | None = Field(default=None, description="State peer certification status.")
    lived_experience: list[LivedExperience] | None = Field(default=None, max_length=3, description="Kinds of lived experience the peer brings.")
    months_in_recovery: int | None = Field(
        default=None, ge=0, le=1200,
        description="Optional and sensitive: months in recovery. Used only against the state's requirement; never logged.",
    )
    active_caseload: int | None = Field(default=None, ge=0, le=10000, description="Participants currently assigned to this peer.")
    duties: list[ActivityCode] | None = Field(  # type: ignore[valid-type]
        default=None, max_length=100,
        description="Activities the peer is expected to do, as Appendix C activity codes (see `GET /v1/activities`).",
    )
    other_roles: list[SubstituteRole] | None = Field(
        default=None, max_length=5,
        description="Other roles the peer is also used for. Use an empty list for none.",
    )
    employer_policies: EmployerPolicies | None = Field(default=None, description="What the employer's policies allow.")
    # schema 1.2
    credential: CredentialKind | None = Field(
        default=None, title="State credential held or sought",
        description="Which kind of state peer credential the peer holds or is working toward: `substance_use` "
        "(recovery coach, peer recovery specialist), `mental_health` (mental-health peer specialist) or `integrated` "
        "(one credential for both). Decides which of the state's stated requirements apply; unknown if absent. Since 1.2.",
    )

    unique_lists = field_validator("lived_experience", "duties", "other_roles")(_unique)


class Supervision(_Strict):
    """How the peers are supervised."""

    provided_by: list[SupervisorKind] | None = Field(default=None, max_length=5, description="Who supervises the peers (several for co-supervision).")
    frequency: SupervisionFrequency | None = Field(default=None, description="How often individual or group supervision happens.")
    functions: list[SupervisionFunction] | None = Field(default=None, max_length=3, description="Supervision functions covered: administrative, educative (formative), supportive.")
    supervisor_lived_experience: bool | None = Field(default=None, description="The supervisor providing supportive supervision has lived experience of recovery.")
    supervisor_peer_training: bool | None = Field(default=None, description="The supervisor is trained in the history, values and philosophy of peer support.")
    co_supervision: bool | None = Field(default=None, description="Supervision is split between the host agency and a peer-experienced partner.")
    peer_network_contact: NetworkContact | None = Field(
        default=None, description="How often the peers meet a network of peer workers outside the agency."
    )
    # schema 1.1
    mental_health_professional: bool | None = Field(default=None, description="A competent mental health professional, as defined by the state, supervises the peers (a Medicaid requirement). Since 1.1.")
    supervisor_champions_role: bool | None = Field(default=None, description="The supervisor champions peer roles within the agency. Since 1.1.")
    supervisor_dual_role: bool | None = Field(default=None, description="The supervisor also acts as a peer's therapist, diagnostician or sponsor. Since 1.1.")
    ethics_discussed: bool | None = Field(default=None, description="Ethics, boundaries and professionalism are discussed in supervision. Since 1.1.")

    unique_lists = field_validator("provided_by", "functions")(_unique)


class OutcomeInstrument(StrEnum):
    barc_10 = "barc_10"
    ras = "ras"
    rpi = "rpi"
    other = "other"


def _flag(description: str, since: str | None = None) -> Any:
    return Field(default=None, description=description + (f" Since {since}." if since else ""))


class Policies(_Strict):
    """Written policies and practices. `true` = in place, `false` = not in place, absent = unknown."""

    written_job_description: bool | None = _flag("A written job description for the peer role.")
    consent_protocol: bool | None = _flag("A release-of-information / informed-consent protocol covering 42 CFR Part 2 and HIPAA.")
    safety_protocol: bool | None = _flag("A safety protocol for community and home-based work.")
    # schema 1.1
    job_description_time_per_function: bool | None = _flag("The job description lists the activities and the time expected on each function.", "1.1")
    individualized_plan_of_care: bool | None = _flag("Peer services are coordinated within an individualized, person-centred plan of care with measurable goals.", "1.1")
    continuing_education: bool | None = _flag("Peers have continuing education requirements or support.", "1.1")
    peers_in_team_meetings: bool | None = _flag("Peers take part in team and staffing meetings.", "1.1")
    career_path: bool | None = _flag("The peer role has a career path (advancement, senior or supervisory peer roles).", "1.1")
    regular_evaluation: bool | None = _flag("Peers receive regular performance evaluation and feedback.", "1.1")
    privacy_training: bool | None = _flag("Peers are trained on privacy rules (42 CFR Part 2, HIPAA) and on mandated reporting.", "1.1")
    relapse_shared_without_consent: bool | None = _flag("Relapse or test information learned by peers is shared with the court or supervision without the participant's consent.", "1.1")
    code_of_ethics: bool | None = _flag("A code of ethics written for peer support workers.", "1.1")
    boundaries_policy: bool | None = _flag("A boundaries policy for peers (dual relationships, self-disclosure, gifts, contact outside work).", "1.1")
    self_care_plans: bool | None = _flag("Peers have self-care / wellness plans.", "1.1")
    burnout_screening: bool | None = _flag("Compassion fatigue and burnout are checked (ProQOL or similar).", "1.1")
    crisis_debriefing: bool | None = _flag("Resources for immediate debriefing after a crisis.", "1.1")
    clinical_policies_applied_to_peers: bool | None = _flag("Policies written for clinical staff are applied to peers unchanged.", "1.1")
    safety_training: bool | None = _flag("Peers are trained on safety in the community and in homes.", "1.1")
    stakeholder_engagement: bool | None = _flag("Community partners and stakeholders (courts, police, treatment, the recovery community) are engaged to promote a recovery orientation, e.g. cross-sector training.", "1.1")
    readiness_assessment: bool | None = _flag("An organisational readiness self-assessment was done.", "1.1")
    leadership_support: bool | None = _flag("Agency leadership supports the peer program openly.", "1.1")
    staff_trained_on_peer_role: bool | None = _flag("Existing staff were trained on the peer role and its value.", "1.1")
    recovery_oriented_policy_review: bool | None = _flag("Agency policies were reviewed to be recovery-oriented.", "1.1")
    peer_input_into_policy: bool | None = _flag("Peers have a voice in the program's policies.", "1.1")
    orientation_plan: bool | None = _flag("An orientation and onboarding plan for new peers.", "1.1")
    outcome_measurement: bool | None = _flag("A plan to measure outcomes of peer services.", "1.1")
    outcome_instruments: list[OutcomeInstrument] | None = Field(default=None, max_length=4, description="Instruments used to measure outcomes (BARC-10, RAS, RPI, other). Since 1.1.")
    role_described_as_sponsor: bool | None = _flag("Program documents describe the peer as a 12-step sponsor.", "1.1")

    unique_lists = field_validator("outcome_instruments")(_unique)


class Hiring(_Strict):
    """How peers are recruited and hired. `true` = the practice is in place. Since schema 1.1."""

    background_check_framework: bool | None = _flag("A written decision framework for background checks.")
    blanket_conviction_exclusion: bool | None = _flag("Applicants with past convictions related to mental illness or substance use are excluded automatically.")
    interview_asks_diagnosis: bool | None = _flag("Interviews ask about the nature or severity of a diagnosis or treatment.")
    excludes_history_of_sud: bool | None = _flag("Candidates are refused for a history of substance use disorder.")
    posting_names_justice_setting: bool | None = _flag("The job posting says the work is in a criminal-justice agency.")
    committee_includes_peer_expertise: bool | None = _flag("The hiring committee includes a service recipient or someone who knows peer support.")
    peers_involved_in_hiring: bool | None = _flag("Peers take part in hiring peers.")


class Acknowledgement(_Strict):
    """A risk the program has reviewed and accepts, with its reason. Reported, never dropped."""

    rule_id: Annotated[str, StringConstraints(pattern=r"^PC-[A-Z]+-[0-9]{3}$")] = Field(description="The rule whose finding is acknowledged.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)] = Field(description="Why the program accepts this risk.")
    subject: Annotated[str, StringConstraints(pattern=r"^(/peers/[0-9]{1,3})?$")] | None = Field(
        default=None, description="Limit to one subject: '' for the program, '/peers/N' for a peer; absent = every subject."
    )


class Profile(_Strict):
    """A program profile: the input to every evaluation."""

    schema_version: Literal["1.0", "1.1"] = Field(description="Version of this profile schema: `1.1` (current) or `1.0`; every 1.0 profile is a valid 1.1 profile.")
    program: Program
    peers: list[Peer] = Field(min_length=1, max_length=500, description="Peer staff (or planned positions); at least one.")
    supervision: Supervision | None = Field(default=None, description="How peers are supervised; unknown if absent.")
    policies: Policies | None = Field(default=None, description="Written policies and practices; unknown if absent.")
    hiring: Hiring | None = Field(default=None, description="Recruitment and hiring practices; unknown if absent. Since 1.1.")
    acknowledged: list[Acknowledgement] | None = Field(
        default=None, max_length=200,
        description="Risks the program has reviewed and accepts: their findings are reported as acknowledged, with the reason, and do not count as open.",
    )

    @model_validator(mode="after")
    def peer_ids_unique(self) -> "Profile":
        ids = [p.id for p in self.peers if p.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("peer ids must be unique")
        return self
