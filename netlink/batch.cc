#include "netlink/batch.h"

#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include <iterator>

namespace ringfence::netlink {

Batch Batch::fragment(uint8_t family) {
  Batch b;
  b.family_ = family;
  return b;
}

void Batch::renumber(uint32_t& nextSeq) {
  for (size_t at = 0; at < used_;) {
    auto* m = reinterpret_cast<nlmsghdr*>(buffer_.data() + at);
    m->nlmsg_seq = nextSeq++;
    at += NLMSG_ALIGN(m->nlmsg_len);
  }
}

void Batch::append(Batch&& fragment) {
  if (fragment.used_ == 0) return;
  fragment.renumber(nextSeq_);
  described_.insert(described_.end(), std::make_move_iterator(fragment.described_.begin()),
                    std::make_move_iterator(fragment.described_.end()));
  // The piece written so far and the fragment's are kept as they are; the
  // next message starts a piece of its own.
  if (used_ > 0) {
    sealed_.push_back({std::move(buffer_), used_});
    sealedBytes_ += used_;
  }
  sealed_.push_back({std::move(fragment.buffer_), fragment.used_});
  sealedBytes_ += fragment.used_;
  buffer_ = {};
  used_ = 0;
}

std::vector<iovec> Batch::pieces() const {
  std::vector<iovec> out;
  for (const Piece& p : sealed_) out.push_back({const_cast<char*>(p.bytes.data()), p.used});
  if (used_ > 0) out.push_back({const_cast<char*>(buffer_.data()), used_});
  return out;
}

std::vector<char> Batch::bytes() const {
  std::vector<char> out;
  out.reserve(size());
  for (const iovec& v : pieces()) {
    const char* p = static_cast<const char*>(v.iov_base);
    out.insert(out.end(), p, p + v.iov_len);
  }
  return out;
}

Batch::Batch(uint32_t firstSeq) : firstSeq_(firstSeq), nextSeq_(firstSeq), family_(NFPROTO_INET) {
  reserve();
  nlmsghdr* begin = nftnl_batch_begin(buffer_.data() + used_, nextSeq_++);
  used_ += NLMSG_ALIGN(begin->nlmsg_len);
}

void Batch::reserve() {
  // Grown by what a message may need (the vector's own growth is geometric):
  // only that much is zeroed each time.
  if (buffer_.size() < used_ + kMaxMessage) buffer_.resize(used_ + kMaxMessage);
}

void Batch::expect(size_t bytes) { buffer_.reserve(used_ + bytes); }

nlmsghdr* Batch::start(uint16_t type, uint16_t flags, std::string what) {
  reserve();
  described_.push_back(std::move(what));
  return nftnl_nlmsg_build_hdr(buffer_.data() + used_, type, family_, flags | NLM_F_ACK,
                               nextSeq_++);
}

void Batch::commit(nlmsghdr* message) { used_ += NLMSG_ALIGN(message->nlmsg_len); }

void Batch::finish() {
  reserve();
  nlmsghdr* end = nftnl_batch_end(buffer_.data() + used_, nextSeq_++);
  used_ += NLMSG_ALIGN(end->nlmsg_len);
}

std::string Batch::describe(uint32_t seq) const {
  if (seq <= firstSeq_ || seq - firstSeq_ - 1 >= described_.size()) return {};
  return described_[seq - firstSeq_ - 1];
}

}  // namespace ringfence::netlink
