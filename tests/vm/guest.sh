#!/bin/bash
# Runs in the VM as root (oqto-vm-test.service, after multi-user.target; the unit powers
# the VM off afterwards). The checks run as the lingering account u inside its user
# manager, where a runner service runs too. The host reads the markers from the serial log.
set -u
echo "OQTO-VM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
systemctl start user@1000.service
echo "OQTO-VM-USER-MANAGER uptime=$(cut -d' ' -f1 /proc/uptime)"
rc=0
runuser -u u -- env XDG_RUNTIME_DIR=/run/user/1000 \
    systemd-run --user --wait --pipe --quiet --collect --unit=oqto-vm-checks \
    /opt/oqto/venv/bin/python -u /mnt/payload/tests/vm/guest_limits.py 2>&1 || rc=$?
echo "OQTO-VM-END rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
