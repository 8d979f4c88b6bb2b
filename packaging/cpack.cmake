# The Debian packages, made by CPack from this build directory (scripts/package.sh): one package
# per component group, installed to /usr, binaries stripped, Depends of the programs computed by
# dpkg-shlibdeps, maintainer scripts and conffiles from packaging/debian/.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME heartbeat)
set(CPACK_PACKAGE_VENDOR "Heartbeat")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/cpack)  # scripts/package.sh moves the .debs to packages/
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Heartbeat maintainers <heartbeat@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME heartbeat-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_SERVER_PACKAGE_RECOMMENDS bind9-dnsutils)
set(CPACK_DEBIAN_SERVER_DESCRIPTION "Heartbeat monitoring server (hbd)
hbd receives heartbeats and host data from Heartbeat clients over UDP,
keeps every host's state, raises threshold alerts, sends notifications
(email, Pushover, Mattermost, Signal, webhooks) and serves an HTTP API
and a web UI. The service runs as the system user heartbeat and keeps
its store in /var/lib/heartbeat.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA "${HB_DEB_CONTROL_EXTRA_server}")

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME heartbeat-client)
set(CPACK_DEBIAN_CLIENT_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_CLIENT_PACKAGE_RECOMMENDS "iputils-ping, monitoring-plugins-basic")
set(CPACK_DEBIAN_CLIENT_DESCRIPTION "Heartbeat monitoring client (hbc)
hbc sends heartbeats and the data of its plugins (CPU, memory, disks,
network, ping, Nagios checks, ZFS, any program printing JSON) to a
Heartbeat server and runs the commands of its allow-list when the
server asks.")
set(CPACK_DEBIAN_CLIENT_PACKAGE_CONTROL_EXTRA "${HB_DEB_CONTROL_EXTRA_client}")

set(CPACK_DEBIAN_CLIENT_MINI_PACKAGE_NAME heartbeat-client-mini)
set(CPACK_DEBIAN_CLIENT_MINI_PACKAGE_SHLIBDEPS OFF)  # static
set(CPACK_DEBIAN_CLIENT_MINI_DESCRIPTION "Heartbeat monitoring client, static (hbc_mini)
hbc_mini is one static binary without dependencies that speaks the
Heartbeat protocol with the core plugins of hbc (CPU, memory, disks,
network, ping and Nagios checks), to copy onto any Linux host.")
set(CPACK_DEBIAN_CLIENT_MINI_PACKAGE_CONTROL_EXTRA "${HB_DEB_CONTROL_EXTRA_client_mini}")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libheartbeat-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)
list(JOIN HB_DEV_DEPENDS ", " dev_depends)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${dev_depends}")
set(CPACK_DEBIAN_DEV_DESCRIPTION "Heartbeat monitoring library (C++20 headers)
The header-only C++20 library Heartbeat's programs are built from, with
its CMake package: find_package(heartbeat) and the targets
heartbeat::core (the standard library only), heartbeat::protocol,
heartbeat::client, heartbeat::server and heartbeat::heartbeat.")

include(CPack)
foreach(group server client client_mini dev)
  cpack_add_component_group(${group})
  cpack_add_component(${group} GROUP ${group})
  cpack_add_component(${group}_system GROUP ${group})
endforeach()
