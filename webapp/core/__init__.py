"""Cross-cutting pieces with no routes: model base, access, htmx, jobs, errors, money."""
