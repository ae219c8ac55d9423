#!/usr/bin/env bash
# Build (or reuse) the Debian 12 VM image the cgroup-limits test boots with qemu.
#
# Usage: scripts/vm/build-image.sh        (as root; prints the image directory)
#
# The image holds systemd, a lingering account `u` (uid 1000) with its user manager,
# bubblewrap, and a venv with Oqto's locked runtime dependencies at /opt/oqto/venv. Oqto
# itself is not in it: each boot brings this checkout's src/ and tests/vm/ on a second disk
# (scripts/vm/boot.sh), so a code change never rebuilds the image. The image is cached in
# $OQTO_VM_CACHE (default /var/cache/oqto-vm)/<key>, the key being a hash of everything it
# is made from (this script, uv.lock, the mirror); other keys are removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${OQTO_VM_CACHE:-/var/cache/oqto-vm}"
MIRROR="${OQTO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
PACKAGES="systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,python3,python3-venv,\
procps,bubblewrap,linux-image-amd64,initramfs-tools,kmod"
UV="$ROOT/.tools/uv-venv/bin/uv"
PIP_PYTHON="$ROOT/.tools/uv-venv/bin/python"
IMAGE_SIZE=3G

log() { printf '[vm-image] %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "build-image.sh must run as root" >&2; exit 2; }
for tool in debootstrap mkfs.ext4 "$UV"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "missing $tool: run scripts/setup.sh --test" >&2
        exit 2
    }
done

key="$( { cat "${BASH_SOURCE[0]}" "$ROOT/uv.lock"; echo "$MIRROR $SUITE"; } |
    sha256sum | cut -c1-16)"
out="$CACHE/$key"
mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9 # concurrent runs: one builds, the others wait and reuse it
if [ -f "$out/.complete" ]; then
    echo "$out"
    exit 0
fi
for old in "$CACHE"/*/; do
    [ -d "$old" ] && [ "$old" != "$out/" ] && rm -rf "$old"
done

started=$(date +%s)
work="$CACHE/building"
rm -rf "$work" "$out"
mkdir -p "$work"
tree="$work/tree"
cleanup() {
    # debootstrap mounts /proc and /sys in the tree while it works; a failure can leave them.
    for m in $(awk -v p="$tree/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount --lazy "$m" 2>/dev/null || true
    done
}
trap cleanup EXIT

log "debootstrap $SUITE (minbase + systemd + kernel)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tree" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}

log "locked runtime dependencies into /opt/oqto/venv"
wheels="$tree/tmp/wheels"
mkdir -p "$wheels"
"$UV" export --frozen --no-dev --no-emit-project --format requirements-txt \
    --project "$ROOT" -o "$wheels/requirements.txt" -q
# The host's Python is the guest's (Debian 12's 3.11), so the wheel tags fit.
PIP_CONFIG_FILE=/dev/null "$PIP_PYTHON" -m pip download -q --disable-pip-version-check \
    --only-binary=:all: --require-hashes -r "$wheels/requirements.txt" -d "$wheels"
# A clean environment: the host's PIP_* settings (an index, find-links) are not the guest's.
in_tree() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$tree" "$@"; }
in_tree python3 -m venv /opt/oqto/venv
in_tree /opt/oqto/venv/bin/pip install -q --disable-pip-version-check --no-index \
    --find-links /tmp/wheels --require-hashes -r /tmp/wheels/requirements.txt
rm -rf "$wheels"
# Oqto's source comes on the payload disk, mounted at /mnt/payload.
echo /mnt/payload/src >"$tree/opt/oqto/venv/lib/python3.11/site-packages/oqto-payload.pth"

log "configuring the guest"
echo oqto-vm >"$tree/etc/hostname"
cat >"$tree/etc/fstab" <<'EOF'
/dev/vda / ext4 rw,relatime 0 1
/dev/vdb /mnt/payload ext4 ro,nofail 0 0
EOF
mkdir -p "$tree/mnt/payload"
in_tree useradd -m -u 1000 -s /bin/bash u
mkdir -p "$tree/var/lib/systemd/linger"
touch "$tree/var/lib/systemd/linger/u" # user@1000.service starts at boot
# The serial getty swallows console output of the self-test; nothing here needs a login.
in_tree systemctl mask serial-getty@ttyS0.service getty@tty1.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service >/dev/null 2>&1 || true
cat >"$tree/etc/systemd/system/oqto-vm-test.service" <<'EOF'
[Unit]
Description=Oqto VM test (the payload disk's tests/vm/guest.sh)
After=multi-user.target
RequiresMountsFor=/mnt/payload

[Service]
Type=oneshot
ExecStart=/bin/bash /mnt/payload/tests/vm/guest.sh
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=600

[Install]
WantedBy=multi-user.target
EOF
in_tree systemctl enable oqto-vm-test.service >/dev/null 2>&1
# Only what the VM's disks need: a small initrd boots markedly faster under emulation.
printf '%s\n' virtio_pci virtio_blk ext4 >"$tree/etc/initramfs-tools/modules"
sed -i 's/^MODULES=.*/MODULES=list/' "$tree/etc/initramfs-tools/initramfs.conf"
in_tree update-initramfs -u -k all >/dev/null
rm -rf "$tree/var/cache/apt/archives"/*.deb "$tree/var/lib/apt/lists"/*

mkdir -p "$work/image"
cp "$(readlink -f "$tree/vmlinuz")" "$work/image/vmlinuz"
cp "$(readlink -f "$tree/initrd.img")" "$work/image/initrd.img"
log "mkfs.ext4 root image ($IMAGE_SIZE, sparse)"
mkfs.ext4 -q -F -L root -d "$tree" "$work/image/root.img" "$IMAGE_SIZE"
cleanup
rm -rf "$tree"
printf 'built in %ss from %s\n' "$(($(date +%s) - started))" "$MIRROR" >"$work/image/.complete"
mv "$work/image" "$out"
rm -rf "$work"
log "image ready in $(($(date +%s) - started)) s: $out"
echo "$out"
