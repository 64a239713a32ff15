// Which entries of the profiles directory are profiles, and how to say why
// another one is not read.
#pragma once

#include <string>
#include <string_view>

namespace ringfence::policy {

// "NAME.yaml" or "NAME.yml", the extension in any letter case, NAME not empty
// and not starting with '.' (a hidden file is ignored).
bool isProfileFileName(std::string_view name);

// For a warning "not read: ...": why an entry named `name` (of file type
// `mode`, 0 if unknown) is no profile.
std::string notAProfileReason(std::string_view name, unsigned mode);

}  // namespace ringfence::policy
