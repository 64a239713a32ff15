// Default locations, from the install directories CMake was configured with (GNUInstallDirs):
// RINGFENCE_CONFIG_DIR is ${sysconfdir}/ringfence and RINGFENCE_STATE_DIR
// ${localstatedir}/lib/ringfence. With the prefix /usr (the Debian package) they are
// /etc/ringfence and /var/lib/ringfence, the contract's defaults; builds outside CMake get those
// too.
#pragma once

#ifndef RINGFENCE_CONFIG_DIR
#define RINGFENCE_CONFIG_DIR "/etc/ringfence"
#endif
#ifndef RINGFENCE_STATE_DIR
#define RINGFENCE_STATE_DIR "/var/lib/ringfence"
#endif

// A string literal, so that help texts can be built from it at compile time.
#define RINGFENCE_DEFAULT_CONFIG_FILE RINGFENCE_CONFIG_DIR "/ringfence.yaml"
