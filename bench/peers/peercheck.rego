# Fifteen of PeerCheck's rules in Rego, for the side-by-side benchmark (python -m bench.peers).
#
# Input: a program profile exactly as a caller sends it (JSON; a field absent or null is unknown).
# Output: data.peercheck.result =
#   {"program": {rule id: outcome}, "peers": [{rule id: outcome}, ...]}
# where outcome is "fired" or "needs_information"; rules that pass or do not apply are left out.
#
# Truth values are three-valued: true, false, or null for "unknown". A rule fires when its
# condition is true, needs information when it is unknown, and is left out when it is false —
# PeerCheck's semantics: an unknown input never satisfies a comparison, and a rule is reported
# as needing information only when filling in the unknown could still make it fire.
package peercheck

import rego.v1

# ---- catalog data (the harness checks these against rules/catalog/ when it loads the policy)

# Appendix C activities marked unlawful, and those classified "conflict" (without the unlawful
# ones, those a dedicated rule judges and those of a conflict group with its own rule).
unlawful := {"buy_illegal_drugs"}

conflict := {"buy_drugs_or_alcohol", "consume_alcohol"}

# Appendix C activities done with an individual participant (the work a caseload measures).
individual := {
	"accompany_drug_test", "administer_drug_test", "assess_suicide_risk", "attend_court",
	"attend_doctor_appointment", "buy_drugs_or_alcohol", "buy_illegal_drugs", "cigarette",
	"coffee_or_lunch", "complete_paperwork_for_them", "consume_alcohol", "coping_strategies",
	"deescalate_panic", "document_interactions", "drive_and_wait", "drive_to_appointments",
	"drop_off_medications", "employment_search", "encourage_reduced_use",
	"encourage_treatment_adherence", "family_mediation", "family_relationships",
	"find_treatment_information", "food_bank", "harm_reduction", "help_with_paperwork",
	"home_visit", "housing_search", "info_to_family", "inform_staff_of_relapse", "jail_visit",
	"monitor_symptoms_for_team", "personal_experience_diagnosis", "personal_hygiene",
	"phone_providers_for_them", "phone_providers_with_them", "sexuality", "share_story_with_staff",
	"shop_for_them", "shop_with_them", "socializing", "speak_up_at_doctor", "spirituality_religion",
	"stigma_one_on_one", "suggest_diagnosis_medication", "therapy_session", "trauma_abuse",
}

# The state table: each state the sources name, and its recovery requirement.
state_requirement := {
	"NY": "not_required", "IA": "not_required", "CT": "not_required",
	"RI": "recommended", "OR": "recommended",
	"AK": "required_no_length", "AZ": "required_no_length", "DE": "required_no_length", "OH": "required_no_length",
	"TX": "self_directed",
}

# States whose researched row (state_requirements.yaml) gives a recovery requirement.
researched := {
	"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "KS",
	"KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NM", "NV", "NY",
	"OH", "OK", "OR", "PA", "SC", "TN", "TX", "UT", "WA", "WI", "WV", "WY",
}

mandated := {"court_ordered", "condition_of_supervision"}

monthly_or_more := {"monthly", "weekly"}

# ---- three-valued helpers (null = unknown)

get(obj, key) := object.get(obj, key, null) if is_object(obj)

get(obj, key) := null if not is_object(obj)

and3(a, b) := false if a == false
else := false if b == false
else := null if a == null
else := null if b == null
else := true

eq3(x, value) := null if x == null
else := x == value

lt3(x, n) := null if x == null
else := x < n

# some item of a list is in a set; unknown when the list is
any_in3(items, set) := null if items == null
else := true if {
	some x in items
	x in set
}
else := false

outcome(t) := "fired" if t == true

outcome(t) := "needs_information" if t == null

# ---- facts derived from the profile

program := input.program

supervision := get(input, "supervision")

policies := get(input, "policies")

peer_count := count(input.peers)

state_in_table := program.state in object.keys(state_requirement)

state_researched := program.state in researched

bills_medicaid := any_in3(get(program, "funding"), {"medicaid"})

referral_mandated := any_in3(get(program, "referral_pathways"), mandated)

peer_network_monthly := null if get(supervision, "peer_network_contact") == null
else := supervision.peer_network_contact in monthly_or_more

# The caseload condition: above 30 per FTE and at most 45 (beyond that another rule speaks), or,
# with the FTE unknown, a caseload above 30 and at most 45.
caseload_condition(peer) := null if get(peer, "active_caseload") == null
else := false if peer.active_caseload > 45
else := per_fte_in_range(peer.active_caseload / peer.fte) if get(peer, "fte") != null
else := true if peer.active_caseload > 30
else := null

per_fte_in_range(x) := true if {
	x > 30
	x <= 45
}
else := false

# ---- the rules

program_truth := {
	# mandated referral
	"PC-VOLUNTARY-001": referral_mandated,
	# a single peer without monthly contact with an outside peer network (unknown contact counts as none)
	"PC-STAFFING-001": and3(peer_count == 1, peer_network_monthly != true),
	# state table
	"PC-CERT-001": and3(state_in_table == false, state_researched == false),
	"PC-CERT-002": and3(state_in_table, object.get(state_requirement, program.state, null) == "required_no_length"),
	# policy booleans
	"PC-CONFIDENTIALITY-001": eq3(get(policies, "consent_protocol"), false),
	"PC-ETHICS-002": eq3(get(policies, "boundaries_policy"), false),
	"PC-READINESS-003": and3(
		eq3(get(policies, "written_job_description"), true),
		eq3(get(policies, "job_description_time_per_function"), false),
	),
	# Medicaid condition
	"PC-MEDICAID-001": and3(bills_medicaid, eq3(get(supervision, "mental_health_professional"), false)),
}

peer_truth(peer) := {
	# caseload per FTE above the typical range, for a peer who works with individual participants
	"PC-CASELOAD-001": and3(any_in3(get(peer, "duties"), individual), caseload_condition(peer)),
	# Medicaid: an uncertified peer in a program that bills Medicaid
	"PC-CERT-004": and3(not_certified(peer), bills_medicaid),
	# state table: months in recovery below 12 where neither the sources nor the research give a figure
	"PC-CERT-006": and3(
		and3(state_in_table == false, state_researched == false),
		lt3(get(peer, "months_in_recovery"), 12),
	),
	# Appendix C activities
	"PC-ROLE-001": any_in3(get(peer, "duties"), unlawful),
	"PC-ROLE-002": any_in3(get(peer, "duties"), conflict),
	"PC-ROLE-005": any_in3(get(peer, "duties"), {"drive_and_wait"}),
	"PC-ROLE-006": and3(
		any_in3(get(peer, "duties"), {"drive_to_appointments"}),
		eq3(get(get(peer, "employer_policies"), "transport_allowed"), false),
	),
}

not_certified(peer) := null if get(peer, "certification") == null
else := peer.certification != "certified"

outcomes(truth) := {id: o | some id, t in truth; o := outcome(t)}

result := {
	"program": outcomes(program_truth),
	"peers": [outcomes(peer_truth(peer)) | some peer in input.peers],
}
