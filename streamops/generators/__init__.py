"""Generators of committed files derived from components/config: the README's configuration
reference (`make docs`) and the component package's input types and schema golden
(`make package-schema`). Tests fail while either output is stale."""
