# Shell functions for the packages' systemd units (what dh_installsystemd would write), put in
# place of an "#INCLUDE units.sh#" line of a maintainer script by packaging/CMakeLists.txt.

# Enables a unit (symlinks only: works in a chroot or a container without systemd) and,
# where systemd runs, starts it ($1: unit, $2: the postinst's second argument).
hb_enable_unit() {
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper unmask "$1" >/dev/null || true
        if deb-systemd-helper --quiet was-enabled "$1"; then
            deb-systemd-helper enable "$1" >/dev/null || true
        else
            deb-systemd-helper update-state "$1" >/dev/null || true
        fi
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        if [ -n "$2" ]; then
            deb-systemd-invoke restart "$1" >/dev/null || true
        else
            deb-systemd-invoke start "$1" >/dev/null || true
        fi
    fi
}

# prerm: stops the unit where systemd runs ($1: unit, $2: the prerm's first argument).
hb_stop_unit() {
    if [ -d /run/systemd/system ] && [ "$2" = "remove" ]; then
        deb-systemd-invoke stop "$1" >/dev/null || true
    fi
}

# postrm: forgets the unit's enablement on purge ($1: unit, $2: the postrm's first argument).
hb_forget_unit() {
    if [ "$2" = "remove" ] && [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
    fi
    if command -v deb-systemd-helper >/dev/null; then
        if [ "$2" = "remove" ]; then
            deb-systemd-helper mask "$1" >/dev/null || true
        elif [ "$2" = "purge" ]; then
            deb-systemd-helper purge "$1" >/dev/null || true
            deb-systemd-helper unmask "$1" >/dev/null || true
        fi
    fi
}
