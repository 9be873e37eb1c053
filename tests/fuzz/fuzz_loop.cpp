/// \file fuzz_loop.cpp
/// A seeded mutation loop around a libFuzzer harness (fuzz_harness.hpp), for CTest: no clang
/// needed, and the same inputs every run.
///
///   fuzz_loop --inputs N --seed S [--timeout SECONDS] [--head BYTES] [--dict FILE]
///             [--regressions DIR] [--findings DIR] SEED_FILE_OR_DIR...
///
/// It first replays every file of --regressions (the crash and hang inputs found so far, as
/// CLI11 keeps its fuzzFail cases; a name ending in .gz is decompressed first), then runs N mutants of the seed files:
/// bit flips, bytes set to edge values, deletions, insertions of dictionary tokens (libFuzzer's dictionary format),
/// duplicated ranges and truncations, half of them within the first --head bytes (where a run
/// file keeps most of its metadata). Each input runs in a child process under a timeout, so a
/// crash or a hang is counted, not fatal; each one found is written to --findings. Exit status
/// 0 when every input passed.
#include "fuzz_harness.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

struct Options {
  long inputs = 1000;
  std::uint64_t seed = 1;
  unsigned timeout_s = 10;
  std::size_t head = 0;  ///< 0: mutate anywhere
  std::string dict;
  std::string regressions;
  std::string findings = ".";
  std::vector<std::string> seeds;
};

enum class Outcome { accepted, refused, finding, crash, hang };

/// The bytes of `path`, decompressed when its name ends in .gz (the kept run files are mostly
/// unwritten chunks: a megabyte of zeros gzips to a few dozen kilobytes).
Bytes read_bytes(const fs::path& path) {
  if (path.extension() != ".gz") {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  Bytes out;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return out;
  std::array<std::uint8_t, 65536> buffer{};
  for (int got = 0; (got = gzread(file, buffer.data(), buffer.size())) > 0;)
    out.insert(out.end(), buffer.begin(), buffer.begin() + got);
  gzclose(file);
  return out;
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// The files of `paths` (a directory stands for the regular files in it, sorted).
std::vector<fs::path> files_of(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const std::string& path : paths) {
    if (!fs::is_directory(path)) {
      files.emplace_back(path);
      continue;
    }
    std::vector<fs::path> inside;
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_regular_file()) inside.push_back(entry.path());
    std::ranges::sort(inside);
    files.insert(files.end(), inside.begin(), inside.end());
  }
  return files;
}

/// One token of a libFuzzer dictionary line `name="value"` (escapes \\, \" and \xNN).
std::string dictionary_token(const std::string& line) {
  const auto open = line.find('"');
  const auto close = line.rfind('"');
  std::string token;
  for (auto k = open + 1; open != std::string::npos && k < close; ++k) {
    if (line[k] != '\\' || k + 1 >= close) {
      token += line[k];
    } else if (line[k + 1] == 'x' && k + 3 < close) {
      token += static_cast<char>(std::stoi(line.substr(k + 2, 2), nullptr, 16));
      k += 3;
    } else {
      token += line[++k];
    }
  }
  return token;
}

std::vector<std::string> read_dictionary(const std::string& path) {
  std::vector<std::string> tokens;
  if (path.empty()) return tokens;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#' && line.find('"') != std::string::npos)
      tokens.push_back(dictionary_token(line));
  return tokens;
}

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::size_t head, std::vector<std::string> dictionary)
      : m_rng(seed), m_head(head), m_dictionary(std::move(dictionary)) {}

  Bytes mutate(Bytes input) {
    const int count = 1 + static_cast<int>(pick(m_rng() % 4 == 0 ? 64 : 4));
    for (int k = 0; k < count; ++k) mutate_once(input);
    return input;
  }

 private:
  std::size_t pick(std::size_t bound) { return bound == 0 ? 0 : static_cast<std::size_t>(m_rng() % bound); }

  /// An offset in `size` bytes, within the head half of the time.
  std::size_t offset(std::size_t size) {
    if (m_head > 0 && pick(2) == 0) return pick(std::min(size, m_head));
    return pick(size);
  }

  void mutate_once(Bytes& b) {
    static constexpr std::array<std::uint8_t, 12> kEdges{0, 0xff, 0x7f, 0x80, 0x01, '"', '=', '[', ']', '\n', '.', '-'};
    const std::size_t kind = pick(m_dictionary.empty() ? 6 : 7);
    if (b.empty() && kind < 5) return;
    const std::size_t at = offset(b.size());
    if (kind == 0) b[at] ^= static_cast<std::uint8_t>(1u << pick(8));
    if (kind == 1) b[at] = kEdges[pick(kEdges.size())];
    if (kind == 2)
      b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(std::min(b.size(), at + 1 + pick(16))));
    if (kind == 3) {
      const std::size_t length = std::min(b.size() - at, 1 + pick(32));
      const Bytes piece(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + length));
      b.insert(b.begin() + static_cast<long>(offset(b.size())), piece.begin(), piece.end());
    }
    if (kind == 4 && pick(8) == 0) b.resize(at);
    if (kind == 5) b.insert(b.begin() + static_cast<long>(std::min(at, b.size())), static_cast<std::uint8_t>(m_rng()));
    if (kind == 6) {
      const std::string& token = m_dictionary[pick(m_dictionary.size())];
      b.insert(b.begin() + static_cast<long>(std::min(at, b.size())), token.begin(), token.end());
    }
  }

  std::mt19937_64 m_rng;
  std::size_t m_head;
  std::vector<std::string> m_dictionary;
};

/// Runs the harness on `input` in a child process, its stderr into `log`.
Outcome run_child(const Bytes& input, unsigned timeout_s, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDOUT_FILENO);
    ::alarm(timeout_s);
    LLVMFuzzerTestOneInput(input.data(), input.size());
    ::_exit(static_cast<int>(kktflow::fuzz::g_last_verdict));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {}
  const int accepted = static_cast<int>(kktflow::fuzz::Verdict::accepted);
  const int refused = static_cast<int>(kktflow::fuzz::Verdict::refused);
  if (WIFEXITED(status) && WEXITSTATUS(status) == accepted) return Outcome::accepted;
  if (WIFEXITED(status) && WEXITSTATUS(status) == refused) return Outcome::refused;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) return Outcome::hang;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) return Outcome::finding;
  return Outcome::crash;
}

struct Tally {
  long accepted = 0, refused = 0, findings = 0, crashes = 0, hangs = 0;
  [[nodiscard]] long passed() const { return accepted + refused; }
  [[nodiscard]] bool clean() const { return findings + crashes + hangs == 0; }
};

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::accepted:
      return "accepted";
    case Outcome::refused:
      return "refused";
    case Outcome::finding:
      return "finding";
    case Outcome::crash:
      return "crash";
    case Outcome::hang:
      return "hang";
  }
  return "?";
}

/// Counts `outcome`; a failure is kept as findings/NAME and its messages printed.
void record(Tally& tally, Outcome outcome, const Bytes& input, const Options& opt, const std::string& name,
            const fs::path& log) {
  if (outcome == Outcome::accepted || outcome == Outcome::refused) {
    ++(outcome == Outcome::accepted ? tally.accepted : tally.refused);
    return;
  }
  (outcome == Outcome::hang ? tally.hangs : outcome == Outcome::crash ? tally.crashes : tally.findings) += 1;
  const fs::path kept = fs::path(opt.findings) / name;
  write_bytes(kept, input);
  std::ifstream messages(log);
  std::stringstream text;
  text << messages.rdbuf();
  std::printf("%s: %s (input kept as %s)\n%s\n", name.c_str(), outcome_name(outcome), kept.c_str(),
              text.str().substr(0, 2000).c_str());
}

Options parse(int argc, char** argv) {
  Options opt;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    const auto next = [&] { return k + 1 < argc ? std::string(argv[++k]) : std::string(); };
    if (arg == "--inputs")
      opt.inputs = std::stol(next());
    else if (arg == "--seed")
      opt.seed = std::stoull(next());
    else if (arg == "--timeout")
      opt.timeout_s = static_cast<unsigned>(std::stoul(next()));
    else if (arg == "--head")
      opt.head = std::stoul(next());
    else if (arg == "--dict")
      opt.dict = next();
    else if (arg == "--regressions")
      opt.regressions = next();
    else if (arg == "--findings")
      opt.findings = next();
    else
      opt.seeds.push_back(arg);
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const std::string harness = fs::path(argv[0]).filename().string();
  fs::create_directories(opt.findings);
  const fs::path log = fs::path(opt.findings) / (harness + ".stderr");
  Tally replayed;
  const auto regressions = opt.regressions.empty() ? std::vector<fs::path>{} : files_of({opt.regressions});
  for (const fs::path& file : regressions) {
    const Bytes input = read_bytes(file);
    record(replayed, run_child(input, opt.timeout_s, log), input, opt, "regression-" + file.filename().string(), log);
  }
  std::vector<Bytes> seeds;
  for (const fs::path& file : files_of(opt.seeds)) seeds.push_back(read_bytes(file));
  if (seeds.empty()) seeds.emplace_back();
  Mutator mutator(opt.seed, opt.head, read_dictionary(opt.dict));
  Tally mutants;
  for (long k = 0; k < opt.inputs; ++k) {
    const Bytes input = mutator.mutate(seeds[static_cast<std::size_t>(k) % seeds.size()]);
    record(mutants, run_child(input, opt.timeout_s, log), input, opt, harness + "-finding-" + std::to_string(k), log);
  }
  std::printf(
      "%s: %zu regressions replayed (%ld passed); %ld inputs from %zu seeds (seed %llu): %ld passed (%ld accepted, "
      "%ld refused cleanly), %ld findings, %ld crashes, %ld hangs\n",
      harness.c_str(), regressions.size(), replayed.passed(), opt.inputs, seeds.size(),
      static_cast<unsigned long long>(opt.seed), mutants.passed(), mutants.accepted, mutants.refused, mutants.findings,
      mutants.crashes, mutants.hangs);
  return replayed.clean() && mutants.clean() ? 0 : 1;
}
