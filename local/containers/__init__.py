"""The functions in real Lambda containers: `make invoke` (invoke), the whole workflow on `sam local start-lambda`
(start), and the Powertools layer in SAM CLI's cache (layer)."""
