#pragma once
// The report file of one party process: proto::party_report as JSON
// (proto/report.hpp), written with --report FILE (role_main) and read back
// by the launcher for its table.
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pmdi/core/error.hpp"
#include "pmdi/proto/report.hpp"

namespace pmdi::run {

inline void write_report(const std::filesystem::path& file, const proto::party_report& r) {
  std::ofstream f(file);
  if (!f) throw error(file.string() + ": cannot write the report");
  f << boost::json::serialize(proto::to_json_value(r)) << "\n";
}

[[nodiscard]] inline proto::party_report read_report(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": no report (the party did not write one)");
  std::ostringstream s;
  s << f.rdbuf();
  boost::system::error_code ec;
  const auto v = boost::json::parse(s.str(), ec);
  if (ec) throw decode_error(file.string() + ": the report is not valid JSON: " + ec.message());
  try {
    return proto::report_from_json(v);
  } catch (const decode_error& e) {
    throw decode_error(file.string() + ": " + e.what());
  }
}

}  // namespace pmdi::run
