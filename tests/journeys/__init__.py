"""The user journeys, one suite for two targets: the local engine (every test run) and an AWS account
(`make verify STACK=<stack name>`). See docs/verify.md."""
