"""Print the app's OpenAPI document as YAML: ``make openapi`` writes it to openapi.yaml."""

import sys

import yaml

from api.main import app


def render() -> str:
    return yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
