#!/usr/bin/env bash
# Build a tiny model offline, fine-tune it on the shipped tickets and compare base vs tuned.
set -euo pipefail
cd "$(dirname "$0")/../.."
domainft tiny-model --data builtin:machinery_tickets --output runs/tiny-machinery
domainft train examples/quickstart/recipe.yaml
domainft evaluate examples/quickstart/recipe.yaml
