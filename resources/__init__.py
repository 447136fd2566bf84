"""Files Flowdesk ships beside its code: icons, styles, anything else under ``resources/``.

This folder is installed as the package ``flowdesk.resources`` (see ``[tool.setuptools]`` in
``pyproject.toml``); look files up with ``flowdesk.paths.resource_path``.
"""
