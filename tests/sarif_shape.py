"""The shape of a SARIF 2.1.0 log, checked without network access: the fields the standard
requires and the keys it allows on each object PeerCheck writes (from the OASIS schema,
sarif-schema-2.1.0.json, where these objects are ``additionalProperties: false``)."""

from __future__ import annotations

import re

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

ALLOWED = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds",
            "artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates",
            "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences",
            "columnKind", "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses",
            "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"},
    "driver": {"guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription",
               "fullName", "version", "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc", "downloadUri",
               "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language",
               "contents", "isComprehensive", "localizedDataSemanticVersion",
               "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata",
               "supportedTaxonomies", "properties"},
    "rule": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription",
             "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help", "relationships",
             "properties"},
    "result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid",
               "correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows",
               "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank",
               "attachments", "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest",
               "webResponse", "properties"},
    "location": {"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"},
    "logicalLocation": {"name", "index", "fullyQualifiedName", "decoratedName", "parentIndex", "kind", "properties"},
    "artifactLocation": {"uri", "uriBaseId", "index", "description", "properties"},
    "physicalLocation": {"address", "artifactLocation", "region", "contextRegion", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset",
               "byteLength", "snippet", "message", "sourceLanguage", "properties"},
    "suppression": {"guid", "kind", "status", "justification", "location", "properties"},
}
LEVELS = {"none", "note", "warning", "error"}
KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}


def _keys(obj: dict, kind: str) -> None:
    extra = set(obj) - ALLOWED[kind]
    assert not extra, f"{kind}: keys SARIF 2.1.0 does not allow: {sorted(extra)}"


def _text(message: dict) -> None:
    assert isinstance(message, dict) and isinstance(message.get("text"), str) and message["text"], message


def assert_sarif_shape(log: dict) -> None:
    """Raise AssertionError when ``log`` is not a SARIF 2.1.0 log of the shape PeerCheck promises."""
    _keys(log, "log")
    assert log["version"] == "2.1.0"
    assert log["$schema"] == SARIF_SCHEMA_URI
    assert isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        _keys(run, "run")
        driver = run["tool"]["driver"]
        _keys(driver, "driver")
        assert driver["name"] == "PeerCheck"
        ids = [rule["id"] for rule in driver.get("rules", [])]
        assert len(ids) == len(set(ids)), "rule ids must be unique"
        for rule in driver.get("rules", []):
            _keys(rule, "rule")
            assert "helpUri" not in rule, "no helpUri unless a real page exists"
            _text(rule["shortDescription"])
            assert rule["defaultConfiguration"]["level"] in LEVELS
            tags = rule.get("properties", {}).get("tags", [])
            assert len(tags) == len(set(tags))
        assert all(inv["executionSuccessful"] is True for inv in run.get("invocations", []))
        assert isinstance(run["results"], list)
        for result in run["results"]:
            _keys(result, "result")
            assert isinstance(result["ruleId"], str) and result["ruleId"]
            _text(result["message"])
            assert result["kind"] in KINDS and result["level"] in LEVELS
            if result["kind"] != "fail":
                assert result["level"] == "none", "SARIF: level is 'none' for any kind other than 'fail'"
            if "ruleIndex" in result:
                assert ids[result["ruleIndex"]] == result["ruleId"]
            for location in result.get("locations", []):
                _keys(location, "location")
                assert "physicalLocation" in location or location.get("logicalLocations")
                for logical in location.get("logicalLocations", []):
                    _keys(logical, "logicalLocation")
                if "physicalLocation" in location:
                    _keys(location["physicalLocation"], "physicalLocation")
                    artifact = location["physicalLocation"]["artifactLocation"]
                    _keys(artifact, "artifactLocation")
                    region = location["physicalLocation"].get("region")
                    if region is not None:
                        _keys(region, "region")
                        assert isinstance(region["startLine"], int) and region["startLine"] >= 1
                    assert re.match(r"^[^\s]+$", artifact["uri"]), "artifact uri must be a URI reference"
                pointer = location.get("properties", {}).get("jsonPointer")
                assert pointer is None or pointer == "" or pointer.startswith("/")
            for suppression in result.get("suppressions", []):
                _keys(suppression, "suppression")
                assert suppression["kind"] in {"inSource", "external"}
