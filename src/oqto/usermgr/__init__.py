"""`oqto-usermgr`: the small privileged helper that provisions Linux accounts for
registrations through the API (the control plane itself runs unprivileged)."""
