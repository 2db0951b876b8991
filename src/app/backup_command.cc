#include "app/backup_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "app/server_app.h"
#include "cli/exit_code.h"
#include "cli/output.h"
#include "store/sqlite/backup.h"

namespace keyward {
namespace {

struct BackupFlags {
  std::string file;  // --to or --from
  std::string data_dir = "./var";
  std::string db;
  bool force = false;
};

bool IsPostgresUrl(std::string_view url) {
  std::string lower(url.substr(0, std::min<std::size_t>(url.size(), 13)));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.starts_with("postgresql://") || lower.starts_with("postgres://");
}

// --db names PostgreSQL: its own tools back it up. The URL may hold a password: never shown.
Status RefusePostgres(const BackupFlags& f, std::string_view command) {
  if (f.db.empty()) return Status::Ok();
  if (!IsPostgresUrl(f.db)) return Status::InvalidArgument("unsupported --db URL");
  if (command == "backup") {
    return Status::InvalidArgument(
        "keyward backup copies the SQLite store; the store is in PostgreSQL (--db): back it up "
        "with pg_dump, e.g. pg_dump --format=custom --file keyward.dump \"$KEYWARD_DB\"");
  }
  return Status::InvalidArgument(
      "keyward restore restores the SQLite store; the store is in PostgreSQL (--db): restore a "
      "pg_dump with pg_restore, e.g. pg_restore --clean --dbname \"$KEYWARD_DB\" keyward.dump");
}

int Fail(std::string_view command, const Status& status) {
  const std::string text = status.code() == StatusCode::kInternal ? status.detail()
                           : status.detail().empty()
                               ? status.message()
                               : status.message() + " (" + status.detail() + ")";
  std::cerr << ErrorLine(fmt::format("{}: {}", command, text)) << std::endl;
  return ExitCodeFor(status.code());
}

int RunBackup(const BackupFlags& f) {
  if (Status s = RefusePostgres(f, "backup"); !s.ok()) return Fail("backup", s);
  Result<sqlite::CopyInfo> copied = sqlite::Backup(f.data_dir, f.file, f.force);
  if (!copied.ok()) return Fail("backup", copied.status());
  std::cout << fmt::format(
                   "backup of {} written to {} ({} bytes, schema version {}).\n"
                   "Keep the master key ({}/master.key, or --master-key-file) too: it is not in "
                   "the backup, and without it revealed keys, signing keys and webhook secrets "
                   "cannot be read.\n",
                   sqlite::DatabasePath(f.data_dir), f.file, copied->bytes, copied->schema_version,
                   f.data_dir)
            << std::flush;
  return 0;
}

int RunRestore(const BackupFlags& f) {
  if (Status s = RefusePostgres(f, "restore"); !s.ok()) return Fail("restore", s);
  if (Status s = PrepareDataDir(f.data_dir); !s.ok()) return Fail("restore", s);
  Result<sqlite::CopyInfo> restored = sqlite::Restore(f.file, f.data_dir, f.force);
  if (!restored.ok()) return Fail("restore", restored.status());
  std::cout << fmt::format(
                   "restored {} into {} ({} bytes, schema version {}).\n"
                   "The server needs the master key of the installation the backup came from "
                   "({}/master.key, or --master-key-file).\n",
                   f.file, sqlite::DatabasePath(f.data_dir), restored->bytes,
                   restored->schema_version, f.data_dir)
            << std::flush;
  return 0;
}

void AddLocationFlags(CLI::App* cmd, BackupFlags& f) {
  cmd->add_option("--data-dir", f.data_dir, "the server's data folder (its --data-dir)")
      ->envname("KEYWARD_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--db", f.db,
                  "the server's --db; a postgresql:// store is refused (use pg_dump/pg_restore)")
      ->envname("KEYWARD_DB");
}

}  // namespace

void AddBackupCommands(CLI::App& app, int* exit_code) {
  auto backup = std::make_shared<BackupFlags>();
  CLI::App* b = app.add_subcommand(
      "backup",
      "Copy the SQLite store to a file, safely while the server runs (the master key is not in "
      "it: keep it too)");
  b->add_option("--to", backup->file, "the backup file to write")->required()->type_name("FILE");
  AddLocationFlags(b, *backup);
  b->add_flag("--force", backup->force, "replace FILE if it exists");
  b->callback([backup, exit_code] { *exit_code = RunBackup(*backup); });

  auto restore = std::make_shared<BackupFlags>();
  CLI::App* r = app.add_subcommand(
      "restore",
      "Replace the SQLite store of a data folder with a backup; the server must be stopped");
  r->add_option("--from", restore->file, "the backup file (made by keyward backup)")
      ->required()
      ->type_name("FILE");
  AddLocationFlags(r, *restore);
  r->add_flag("--force", restore->force, "replace the data folder's existing database");
  r->callback([restore, exit_code] { *exit_code = RunRestore(*restore); });
}

}  // namespace keyward
