// Reading policy files safely: only regular files, never blocking, only
// whole files, and every entry of the profiles directory that is not loaded
// named in a warning.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "policy/file_reader.h"
#include "policy/sources.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

namespace fs = std::filesystem;

class FileSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.write("ringfence.yaml", "profiles: profiles\ngroups: groups.yaml\n");
    dir.write("profiles/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  }
  LoadOptions options() {
    LoadOptions o;
    o.configFile = dir.file("ringfence.yaml");
    o.configRequired = true;
    return o;
  }
  // Loads on another thread and fails the test if that takes longer than 5 s.
  // A FIFO that blocked the reader is then opened for writing and closed, which
  // releases the reader, so a failing test still ends.
  LoadResult loadWithin5s(const std::vector<std::string>& fifos) {
    auto future = std::async(std::launch::async, [o = options()] { return loadPolicy(o); });
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "loading blocked for more than 5 s";
      for (const std::string& f : fifos) {
        int fd = ::open(f.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
      }
    }
    return future.get();
  }
  std::vector<std::string> messages(const LoadResult& r) {
    std::vector<std::string> out;
    std::string prefix = dir.path().string() + "/";
    for (const Diagnostic& d : r.diagnostics.sorted()) {
      std::string s = formatDiagnostic(d);
      if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
      out.push_back(s);
    }
    return out;
  }
  std::string fifo(const std::string& relative) {
    std::string p = dir.file(relative);
    fs::create_directories(fs::path(p).parent_path());
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0) << p;
    return p;
  }
  test::TempDir dir;
};

TEST_F(FileSafety, FifoAsGroupsFileIsAnErrorAndNeverBlocks) {
  std::string f = fifo("groups.yaml");
  LoadResult r = loadWithin5s({f});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "groups.yaml:1:1: error: file is a FIFO (named pipe), not a regular "
                             "file"});
}

TEST_F(FileSafety, FifoAsConfigurationIsAnErrorAndNeverBlocks) {
  fs::remove(dir.file("ringfence.yaml"));
  std::string f = fifo("ringfence.yaml");
  LoadResult r = loadWithin5s({f});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "ringfence.yaml:1:1: error: file is a FIFO (named pipe), not a "
                             "regular file"});
}

TEST_F(FileSafety, FifoNamedLikeAProfileIsSkippedWithAWarningAndNeverOpened) {
  std::string f = fifo("profiles/b.yaml");
  LoadResult r = loadWithin5s({f});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.policy.devices.size(), 1u);
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "profiles/b.yaml:1:1: warning: not read: a FIFO (named pipe), not a "
                             "regular file"});
}

TEST_F(FileSafety, ReaderRefusesEveryKindOfNonRegularFile) {
  std::string f = fifo("x.fifo");
  EXPECT_EQ(readPolicyFile(f).error().message, "file is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(readPolicyFile(dir.file("profiles")).error().message,
            "file is a directory, not a regular file");
  EXPECT_EQ(readPolicyFile("/dev/null").error().message,
            "file is a character device, not a regular file");
  fs::create_symlink("/dev/zero", dir.file("zero.yaml"));
  EXPECT_EQ(readPolicyFile(dir.file("zero.yaml")).error().message,
            "file is a character device, not a regular file");
  EXPECT_EQ(readPolicyFile(dir.file("absent.yaml")).error().kind, FileReadError::Kind::Missing);
  fs::create_symlink(dir.file("absent.yaml"), dir.file("dangling.yaml"));
  auto dangling = readPolicyFile(dir.file("dangling.yaml"));
  EXPECT_EQ(dangling.error().kind, FileReadError::Kind::Refused);
  EXPECT_EQ(dangling.error().message, "file is a symbolic link to a file that does not exist");
  fs::create_symlink(dir.file("loop.yaml"), dir.file("loop.yaml"));
  EXPECT_EQ(readPolicyFile(dir.file("loop.yaml")).error().message,
            "cannot open file: too many levels of symbolic links");
}

// Read through the listed directory, with the listing's stat() for the look
// before opening: a file the listing found not regular is never opened, and
// one that became a FIFO since the listing is refused by the fstat() after
// opening, without a read that waits.
TEST_F(FileSafety, ReadThroughTheDirectoryWithTheListingsLook) {
  int dirfd = ::open(dir.file("profiles").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dirfd, 0);
  struct stat looked {};
  ASSERT_EQ(::fstatat(dirfd, "a.yaml", &looked, 0), 0);
  FileStamp read;
  auto text = readPolicyFileAt(dirfd, "a.yaml", looked, read);
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(*text, "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  EXPECT_EQ(read.inode, looked.st_ino);

  std::string f = fifo("profiles/b.fifo");
  struct stat fifoLooked {};
  ASSERT_EQ(::stat(f.c_str(), &fifoLooked), 0);
  auto refused = std::async(std::launch::async,
                            [&] { return readPolicyFileAt(dirfd, "b.fifo", fifoLooked, read); });
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(refused.get().error().message, "file is a FIFO (named pipe), not a regular file");
  // Looked at as a FIFO, it is refused without being opened, though it is now a file.
  ASSERT_EQ(::unlink(f.c_str()), 0);
  dir.write("profiles/b.fifo", "device: b\n");
  EXPECT_EQ(readPolicyFileAt(dirfd, "b.fifo", fifoLooked, read).error().message,
            "file is a FIFO (named pipe), not a regular file");

  ASSERT_EQ(::unlink(dir.file("profiles/a.yaml").c_str()), 0);
  fifo("profiles/a.yaml");  // `looked` still says a regular file
  auto became = std::async(std::launch::async,
                           [&] { return readPolicyFileAt(dirfd, "a.yaml", looked, read); });
  ASSERT_EQ(became.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(became.get().error().message, "file is a FIFO (named pipe), not a regular file");

  fs::create_symlink(dir.file("profiles/absent.yaml"), dir.file("profiles/dangling.yaml"));
  EXPECT_EQ(readPolicyFileAt(dirfd, "dangling.yaml", looked, read).error().message,
            "file is a symbolic link to a file that does not exist");
  ::close(dirfd);
}

TEST_F(FileSafety, UnixSocketInTheProfilesDirectoryIsSkipped) {
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string p = dir.file("profiles/s.yaml");
  ASSERT_LT(p.size(), sizeof addr.sun_path);
  std::copy(p.begin(), p.end(), addr.sun_path);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  LoadResult r = loadWithin5s({});
  ::close(s);
  EXPECT_EQ(messages(r),
            std::vector<std::string>{
                "profiles/s.yaml:1:1: warning: not read: a socket, not a regular file"});
}

TEST_F(FileSafety, GroupsFileThatIsADanglingLinkOrADirectoryIsAnError) {
  fs::create_symlink(dir.file("elsewhere.yaml"), dir.file("groups.yaml"));
  EXPECT_EQ(messages(loadPolicy(options())),
            std::vector<std::string>{"groups.yaml:1:1: error: file is a symbolic link to a file "
                                     "that does not exist"});
  fs::remove(dir.file("groups.yaml"));
  fs::create_directory(dir.file("groups.yaml"));
  EXPECT_EQ(
      messages(loadPolicy(options())),
      std::vector<std::string>{"groups.yaml:1:1: error: file is a directory, not a regular file"});
}

TEST_F(FileSafety, ProfileSymlinkedToARegularFileIsLoaded) {
  dir.write("store/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  fs::create_symlink(dir.file("store/b.yaml"), dir.file("profiles/b.yaml"));
  LoadResult r = loadPolicy(options());
  EXPECT_TRUE(r.diagnostics.all().empty()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.policy.devices.size(), 2u);
  EXPECT_EQ(r.policy.devices[1].file, dir.file("profiles/b.yaml"));
}

TEST_F(FileSafety, EveryEntryThatIsNotLoadedIsNamedAndHiddenOnesAreNot) {
  dir.write("profiles/B.YAML", "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  dir.write("profiles/c.Yml", "device: c\nidentity:\n  addresses: [198.51.100.3]\n");
  const std::string broken = "not: valid: at all\n";
  dir.write("profiles/.hidden.yaml", broken);
  dir.write("profiles/.hidden~", broken);
  dir.write("profiles/a.yaml~", broken);
  dir.write("profiles/a.yaml.bak", broken);
  dir.write("profiles/a.yaml.dpkg-old", broken);
  dir.write("profiles/notes.txt", broken);
  dir.write("profiles/README", broken);
  dir.write("profiles/.yaml", broken);
  fs::create_directory(dir.file("profiles/sub.yaml"));
  fs::create_directory(dir.file("profiles/old"));
  fs::create_symlink(dir.file("gone.yaml"), dir.file("profiles/gone.yaml"));
  fs::create_symlink("/dev/null", dir.file("profiles/null.yaml"));
  fs::create_symlink(dir.file("profiles/old"), dir.file("profiles/dir-link.yml"));
  LoadResult r = loadWithin5s({});
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.policy.devices.size(), 3u);
  const std::string onlyYaml = "only names ending in .yaml or .yml are profiles";
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "profiles/README:1:1: warning: not read: not a profile: " + onlyYaml,
                "profiles/a.yaml.bak:1:1: warning: not read: a backup or temporary copy of a "
                "profile? " +
                    onlyYaml,
                "profiles/a.yaml.dpkg-old:1:1: warning: not read: a backup or temporary copy of "
                "a profile? " +
                    onlyYaml,
                "profiles/a.yaml~:1:1: warning: not read: a backup or temporary copy of a "
                "profile? " +
                    onlyYaml,
                "profiles/dir-link.yml:1:1: warning: not read: a symbolic link to a directory, "
                "not a regular file",
                "profiles/gone.yaml:1:1: warning: not read: a symbolic link to a file that does "
                "not exist",
                "profiles/notes.txt:1:1: warning: not read: not a profile: " + onlyYaml,
                "profiles/null.yaml:1:1: warning: not read: a symbolic link to a character "
                "device, not a regular file",
                "profiles/old:1:1: warning: not read: a directory, and not a profile: " + onlyYaml,
                "profiles/sub.yaml:1:1: warning: not read: a directory, not a regular file",
            }));
}

TEST_F(FileSafety, FileNameThatIsNotPrintableIsSkippedAndEscapedInTheWarning) {
  dir.write(std::string("profiles/bad\x1b[2J\xff.yaml"),
            "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  LoadResult r = loadPolicy(options());
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "profiles/bad\\x1B[2J\\xFF.yaml:1:1: warning: not read: the file "
                             "name is not printable UTF-8; rename the file"});
}

TEST_F(FileSafety, SizeLimitIsCheckedBeforeReading) {
  auto big = readPolicyFile(dir.write("big.yaml", std::string(kMaxPolicyFileBytes + 1, '#')));
  EXPECT_EQ(big.error().message, "file is larger than 1048576 bytes");
  auto exact = readPolicyFile(dir.write("exact.yaml", std::string(kMaxPolicyFileBytes, '#')));
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->size(), kMaxPolicyFileBytes);
  EXPECT_EQ(readPolicyFile(dir.file("exact.yaml"), 100).error().message,
            "file is larger than 100 bytes");
}

TEST_F(FileSafety, FileChangedWhileReadIsReadAgain) {
  std::string p = dir.write("c.yaml", "device: c\n");
  int calls = 0;
  auto text = readPolicyFile(p, kMaxPolicyFileBytes, [&](int attempt) {
    ++calls;
    if (attempt == 0) dir.write("c.yaml", "device: c\nidentity:\n");
  });
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "device: c\nidentity:\n");
  EXPECT_EQ(calls, 2);
}

TEST_F(FileSafety, FileReplacedWhileReadIsReadAgain) {
  std::string p = dir.write("c.yaml", "old\n");
  auto text = readPolicyFile(p, kMaxPolicyFileBytes, [&](int attempt) {
    if (attempt != 0) return;
    dir.write("c.new", "new\n");  // same size: only the inode tells
    fs::rename(dir.file("c.new"), p);
  });
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "new\n");
}

TEST_F(FileSafety, FileThatKeepsChangingIsRefused) {
  std::string p = dir.write("c.yaml", "device: c\n");
  int calls = 0;
  auto text = readPolicyFile(p, kMaxPolicyFileBytes, [&](int) {
    ++calls;
    std::ofstream(p, std::ios::app) << "# more\n";
  });
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "file is changing while being read; try again");
  EXPECT_EQ(calls, 3);
}

TEST_F(FileSafety, OnlyWholeFiles) {
  dir.write("profiles/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n  mac: \"02:00");
  dir.write("profiles/c.yaml", "");
  dir.write("groups.yaml", "groups:\n  x: [203.0.113.1]");
  EXPECT_EQ(messages(loadPolicy(options())),
            (std::vector<std::string>{
                "groups.yaml:2:19: error: file ends without a newline: it may still be being "
                "written",
                "profiles/b.yaml:4:14: error: file ends without a newline: it may still be being "
                "written",
                "profiles/c.yaml:1:1: error: file is empty: it may still be being written",
            }));
  dir.write("ringfence.yaml", "");
  EXPECT_EQ(messages(loadPolicy(options())),
            std::vector<std::string>{
                "ringfence.yaml:1:1: error: file is empty: it may still be being written"});
}

TEST_F(FileSafety, MissingProfilesDirectoryIsAnError) {
  fs::remove_all(dir.file("profiles"));
  EXPECT_EQ(
      messages(loadPolicy(options())),
      std::vector<std::string>{"ringfence.yaml:1:11: error: profiles directory '" +
                               dir.file("profiles") + "' does not exist or is not a directory"});
}

// The newline rule holds for every policy file the project ships.
TEST(ShippedFiles, EveryExamplePolicyFileEndsWithANewline) {
  size_t checked = 0;
  for (const char* root : {RINGFENCE_SOURCE_DIR "/profiles", RINGFENCE_TEST_DATA}) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      std::string text = test::readFile(e.path().string());
      EXPECT_FALSE(text.empty()) << e.path();
      EXPECT_TRUE(!text.empty() && text.back() == '\n') << e.path() << " ends without a newline";
      ++checked;
    }
  }
  EXPECT_GT(checked, 60u);
}

}  // namespace
}  // namespace ringfence::policy
