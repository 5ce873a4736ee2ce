"""The registry as a versioned data package (/data/): every public table (counties.reads.public_records)
per data version, as a zip of CSVs with a Frictionless `datapackage.json` and as a SQLite file, with a
checksum per file and the feed cursor the tables correspond to.

`build` writes a version once, outside requests (`manage.py build_data_package`); `store` is where
the versions live and how the doors list and find them; `descriptor` says what the tables hold.
"""
