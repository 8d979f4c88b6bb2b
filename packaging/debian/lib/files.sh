# Shell functions for the owner and mode of the packages' files, put in place of an
# "#INCLUDE files.sh#" line of a maintainer script by packaging/CMakeLists.txt.

# A file only its owner and group read ($1: file, $2: group, $3: mode), unless the admin set
# its owner and mode with dpkg-statoverride.
hb_restrict() {
    if [ -e "$1" ] && ! dpkg-statoverride --list "$1" >/dev/null 2>&1; then
        chgrp "$2" "$1"
        chmod "$3" "$1"
    fi
}
