"""The embedded AWS and the dev server. Imports moto lazily; never imported by a Lambda function."""
