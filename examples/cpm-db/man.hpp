// cpm-db: its manual page, written from the command line's own declaration (the commands,
// their arguments and help texts), so that the page and --help never disagree.
//
//   cpm-db --help-man > cpm-db.1        (the build does this; `cmake --install` installs it)
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <string>
#include <string_view>
#include <vector>

namespace cpmdb {

namespace man {

// Text as roff reads it: backslashes and hyphens escaped, no line starting with a control
// character.
inline std::string escaped(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\') out += "\\e";
    else if (ch == '-') out += "\\-";
    else out += ch;
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

inline bool shown(const CLI::App& app, const CLI::Option* o) {
  return o != app.get_help_ptr() && o != app.get_help_all_ptr() && o->get_name() != "--version";
}

// "--email EMAIL" (the option's value named after it) or "USERNAME"; optional ones bracketed.
inline std::string usage_of(const CLI::Option* o) {
  if (o->get_positional()) {
    const std::string name = "\\fI" + escaped(o->get_name()) + "\\fR";
    return o->get_required() ? name : "[" + name + "]";
  }
  std::string text = "\\fB" + escaped(o->get_name()) + "\\fR";
  if (!o->get_type_name().empty()) text += " \\fI" + escaped(o->get_type_name()) + "\\fR";  // none: a flag
  return o->get_required() ? text : "[" + text + "]";
}

// "-o, --output".
inline std::string names_of(const CLI::Option* o) {
  std::string names;
  for (const auto& n : o->get_snames()) names += (names.empty() ? "-" : ", -") + n;
  for (const auto& n : o->get_lnames()) names += (names.empty() ? "--" : ", --") + n;
  return names;
}

inline std::string path_of(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = &app; at; at = at->get_parent()) path = at->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

// One command with no commands under it: its usage line, what it does, its arguments.
inline void command(const CLI::App& app) {
  std::string usage = "\\fB" + escaped(path_of(app)) + "\\fR";
  std::vector<const CLI::Option*> options;
  for (const CLI::Option* o : app.get_options()) {
    if (!shown(app, o) || o->get_name() == "--db" || o->get_name() == "--json") continue;
    usage += " " + usage_of(o);
    options.push_back(o);
  }
  fmt::print(".TP\n{}\n{}\n", usage, escaped(app.get_description()));
  for (const CLI::Option* o : options) {
    const std::string name = o->get_positional() ? "\\fI" + escaped(o->get_name()) + "\\fR"
                                                 : "\\fB" + escaped(names_of(o)) + "\\fR";
    std::string text = escaped(o->get_description());
    if (!o->get_default_str().empty()) text += " (default: " + escaped(o->get_default_str()) + ")";
    fmt::print(".RS\n.TP\n{}\n{}\n.RE\n", name, text.empty() ? "\\&" : text);
  }
}

inline void commands(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_subcommands([](const CLI::App*) { return true; }).empty()) command(*sub);
    else commands(*sub);
  }
}

}  // namespace man

inline void print_man_page(const CLI::App& app, std::string_view version) {
  fmt::print(".\\\" The manual page of cpm-db, written by 'cpm-db --help-man': do not edit.\n");
  fmt::print(".TH CPM\\-DB 1 \"\" \"cpm-db {}\" \"User Commands\"\n", version);
  fmt::print(".SH NAME\ncpm\\-db \\- administer the database of a cpm git service\n");
  fmt::print(".SH SYNOPSIS\n.B cpm\\-db\n[\\fB\\-\\-db\\fR \\fIPATH\\fR] \\fICOMMAND\\fR [\\fISUBCOMMAND\\fR] "
             "[\\fIARGS\\fR] [\\fB\\-\\-json\\fR]\n.br\n.B cpm\\-db\n\\fICOMMAND\\fR \\fB\\-\\-help\\fR\n");
  fmt::print(".SH DESCRIPTION\n{}\n", man::escaped(app.get_description()));
  fmt::print(".PP\nRecords are named by name (alice, acme, acme/tools) or by id: \\fBid:3\\fR is always an id; a bare "
             "number is an id or a name, and is refused when it is the id of one record and the name of another.\n");
  fmt::print(".SH COMMANDS\n");
  man::commands(app);
  fmt::print(".SH OPTIONS\nEvery command takes these:\n"
             ".TP\n\\fB\\-\\-db\\fR \\fIPATH\\fR\nThe database file (before or after the command). Without it, "
             "\\fB$CPMDB_PATH\\fR, then \\fI~/.cpm/cpm.db\\fR. An empty \\fIPATH\\fR is refused.\n"
             ".TP\n\\fB\\-\\-json\\fR\nPrint the result as one JSON document on stdout, and a failure as one line "
             "{{\"error\": {{\"kind\", \"message\", \"exit_code\"}}}} on stderr.\n"
             ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nPrint the command's help.\n"
             ".TP\n\\fB\\-\\-version\\fR\nPrint the version (before any command).\n");
  fmt::print(".SH ENVIRONMENT\n.TP\n.B CPMDB_PATH\nThe database file when \\fB\\-\\-db\\fR is not given.\n");
  fmt::print(".SH FILES\n.TP\n.I ~/.cpm/cpm.db\nThe database when neither \\fB\\-\\-db\\fR nor \\fB$CPMDB_PATH\\fR "
             "names one.\n");
  fmt::print(".SH EXIT STATUS\n.TP\n0\nSuccess.\n.TP\n1\nThe command failed (a value refused, a record not found "
             "or already there, a file refused, \\fBcheck\\fR found problems).\n.TP\n2\nA usage error (a missing or "
             "unknown argument, a value that is not what the option takes).\n");
  fmt::print(".SH SEE ALSO\n\\fBsqlite3\\fR(1); docs/cpm\\-db.md in the cpm sources.\n");
}

}  // namespace cpmdb
