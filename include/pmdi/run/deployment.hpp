#pragma once
// A deployment as one party sees it: the deployment file (who runs where, with
// which static public key: run/deployment_file.hpp), the party's secret key
// (run/key_files.hpp) and its authenticated links to its peers
// (run/links.hpp).
#include "pmdi/run/deployment_file.hpp"
#include "pmdi/run/key_files.hpp"
#include "pmdi/run/links.hpp"
