// The web UI's files (web/*.html, *.js, *.css), embedded into the binary at build time.
#pragma once

#include <vector>

#include "http/static_files.h"

namespace keyward {

// Paths are "/index.html", "/app.js", ...; contents live for the whole process.
const std::vector<http::StaticFile>& WebAssets();

}  // namespace keyward
