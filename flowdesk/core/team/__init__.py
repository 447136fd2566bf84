"""The team workspace: one server process syncs the upstream into PostgreSQL, desktops sync from it.

* :mod:`.connection` opens PostgreSQL (TLS unless local, one-line errors, no password shown);
* :mod:`.schema` is the server's schema as migrations, with views for BI tools;
* :mod:`.writer` is ``flowdesk server sync``: any source's batches, written with change numbers;
* :mod:`.source` is the desktop's ``team`` source: what changed since its cursor, as records.

psycopg is imported only by these modules, so a desktop without a team server never loads it.
"""
