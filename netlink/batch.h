// One nftables transaction being built: a BEGIN, messages each with its own
// sequence number and a description of what it carries (so a kernel refusal
// names the device and profile line behind it), and an END. Its bytes may
// lie in several pieces (a fragment encoded on another thread is kept as it
// is, not copied), sent together in one sendmsg: one transaction.
#pragma once

#include <linux/netlink.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ringfence::netlink {

class Batch {
 public:
  explicit Batch(uint32_t firstSeq);
  // Messages to be appended to another batch (no BEGIN; their sequence
  // numbers are given by append()), in `family`: a part of one transaction
  // encoded on another thread.
  static Batch fragment(uint8_t family);
  // Appends the messages of `fragment`, numbered on from this batch's; its
  // bytes become a piece of this batch.
  void append(Batch&& fragment);

  // Starts a message in the buffer; fill its payload, then call commit().
  // Every message asks for an acknowledgement.
  nlmsghdr* start(uint16_t type, uint16_t flags, std::string what);
  // The nftables family of the messages started from now on (NFPROTO_INET at first).
  void setFamily(uint8_t family) { family_ = family; }
  uint8_t family() const { return family_; }
  void commit(nlmsghdr* message);
  // Replaces the description of the message committed last.
  void redescribeLast(std::string what) { described_.back() = std::move(what); }
  // Adds the END; no message may follow.
  void finish();
  // About `bytes` more will be encoded: room for them is made at once.
  void expect(size_t bytes);

  // The bytes, in order, piece by piece (for one sendmsg).
  std::vector<iovec> pieces() const;
  // The bytes in one block (a copy, for tests and tools).
  std::vector<char> bytes() const;
  size_t size() const { return sealedBytes_ + used_; }
  // Messages that expect an acknowledgement, in order.
  size_t messageCount() const { return described_.size(); }
  uint32_t firstSeq() const { return firstSeq_; }
  // What message `seq` carried, or empty for BEGIN/END/unknown.
  std::string describe(uint32_t seq) const;

  static constexpr size_t kMaxMessage = 128 * 1024;  // element lists stop well below

 private:
  Batch() = default;  // a fragment
  void reserve();
  // Renumbers the messages in buffer_ from nextSeq_ on.
  void renumber(uint32_t& nextSeq);
  struct Piece {
    std::vector<char> bytes;
    size_t used = 0;
  };
  std::vector<Piece> sealed_;  // the pieces before buffer_
  size_t sealedBytes_ = 0;
  std::vector<char> buffer_;  // the piece being written
  size_t used_ = 0;
  uint32_t firstSeq_ = 0;
  uint32_t nextSeq_ = 0;
  std::vector<std::string> described_;  // index = seq - firstSeq_ - 1
  uint8_t family_ = 0;
};

}  // namespace ringfence::netlink
