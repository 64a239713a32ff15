#include "netlink/batch.h"

#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstring>

namespace ringfence::netlink {

Batch Batch::fragment(uint8_t family) {
  Batch b;
  b.family_ = family;
  return b;
}

void Batch::append(const Batch& fragment) {
  size_t at = used_;
  buffer_.resize(std::max(buffer_.size(), used_ + fragment.used_ + kMaxMessage));
  std::memcpy(buffer_.data() + used_, fragment.buffer_.data(), fragment.used_);
  used_ += fragment.used_;
  while (at < used_) {
    auto* m = reinterpret_cast<nlmsghdr*>(buffer_.data() + at);
    m->nlmsg_seq = nextSeq_++;
    at += NLMSG_ALIGN(m->nlmsg_len);
  }
  described_.insert(described_.end(), fragment.described_.begin(), fragment.described_.end());
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
