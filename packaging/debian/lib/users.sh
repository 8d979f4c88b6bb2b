# Shell functions for the system user hbd and hbc run as. packaging/CMakeLists.txt puts this
# file in place of an "#INCLUDE users.sh#" line of a maintainer script (a maintainer script
# cannot source a file of its own package: in postrm purge the package's files are gone).

# The system user hbd and hbc run as, with its group; home /var/lib/heartbeat, no login.
hb_add_user() {
    if ! getent passwd heartbeat >/dev/null; then
        adduser --quiet --system --group --home /var/lib/heartbeat --no-create-home \
            --shell /usr/sbin/nologin heartbeat
    fi
}

# Removes the user unless another package of ours still uses it ($1: that package).
hb_remove_user() {
    if dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qv '^not-installed$'; then
        return 0
    fi
    if getent passwd heartbeat >/dev/null; then
        if command -v deluser >/dev/null; then
            deluser --quiet --system heartbeat >/dev/null || true
        else
            userdel heartbeat >/dev/null 2>&1 || true
        fi
    fi
    if getent group heartbeat >/dev/null; then
        if command -v delgroup >/dev/null; then
            delgroup --quiet --system heartbeat >/dev/null || true
        else
            groupdel heartbeat >/dev/null 2>&1 || true
        fi
    fi
}
