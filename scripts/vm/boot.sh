#!/usr/bin/env bash
# Boot the VM image once with this checkout on a second disk and run tests/vm/guest.sh.
#
# Usage: scripts/vm/boot.sh IMAGE_DIR SERIAL_LOG [TIMEOUT_SECONDS]   (as root)
#
# IMAGE_DIR is what scripts/vm/build-image.sh printed. The root disk is used with
# snapshot=on, so the cached image never changes. Software emulation (TCG): this kind of
# host's KVM cannot run a stock kernel. The guest's output, between OQTO-VM-BEGIN and
# OQTO-VM-END rc=N, lands in SERIAL_LOG; the exit status is qemu's (124 on timeout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image="$1"
serial="$2"
limit="${3:-300}"

# Shared with other boots; build-image.sh takes it exclusively before replacing an image.
exec 9<"$(dirname "$image")/build.lock"
flock -s 9

run="$(mktemp -d /var/tmp/oqto-vm-run.XXXXXX)"
trap 'rm -rf "$run"' EXIT
mkdir "$run/payload"
tar -C "$ROOT" --exclude=__pycache__ --exclude=web_dist -cf - src/oqto tests/vm |
    tar -C "$run/payload" -xf -
mkfs.ext4 -q -F -L payload -d "$run/payload" "$run/payload.img" 256M >/dev/null

status=0
timeout --kill-after=10 "$limit" qemu-system-x86_64 \
    -accel tcg,thread=multi -smp 2 -m 2048 -nographic -no-reboot -nic none \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 mitigations=off systemd.show_status=error" \
    -drive "file=$image/root.img,format=raw,if=virtio,snapshot=on" \
    -drive "file=$run/payload.img,format=raw,if=virtio,readonly=on" \
    </dev/null >"$serial" 2>&1 || status=$?
exit "$status"
