"""Linux OS helpers for the multi-user deployment.

These modules are thin, dependency-free wrappers around kernel interfaces the
platform relies on for isolation between accounts:

* :mod:`oqto.osutil.acl` -- POSIX ACLs written directly as the
  ``system.posix_acl_access`` xattr (no ``setfacl`` binary needed), used to
  let the service account reach a user's sockets and nobody else.
* :mod:`oqto.osutil.peercred` -- ``SO_PEERCRED`` and an allow-list policy for
  Unix-socket peers.
* :mod:`oqto.osutil.runtime_dir` -- create ``/run/user/<uid>`` the way
  systemd-logind would, for hosts without logind.
* :mod:`oqto.osutil.accounts` -- create/look up/delete Linux accounts via
  ``useradd``/``userdel``.

Submodules are deliberately not imported here: callers import what they need,
and importing the package never touches the system.
"""
