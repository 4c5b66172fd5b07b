// The `code` class of a failed kubelet transfer: a TCP reset is "reset", not "tls".
#include <curl/curl.h>
#include <errno.h>

#include "gtest/gtest.h"
#include "kube/kubelet_client.h"

namespace nodeproc {
namespace {

TEST(KubeletErrorClassTest, ResetsAreNotTls) {
  // What curl 7.88 + OpenSSL 3 report when the kubelet resets the connection.
  EXPECT_EQ(ClassifyTransferError(CURLE_RECV_ERROR, ECONNRESET,
                                  "OpenSSL SSL_read: Connection reset by peer, errno 104"),
            "reset");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CONNECT_ERROR, ECONNRESET,
                                  "OpenSSL SSL_connect: Connection reset by peer in connection to 127.0.0.1:1"),
            "reset");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CONNECT_ERROR, 0,
                                  "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to x:1"),
            "reset");
  EXPECT_EQ(ClassifyTransferError(CURLE_RECV_ERROR, 0,
                                  "OpenSSL SSL_read: error:0A000126:SSL routines::unexpected eof while reading, errno 0"),
            "reset");
  EXPECT_EQ(ClassifyTransferError(CURLE_SEND_ERROR, EPIPE, "Send failure: Broken pipe"), "reset");
  EXPECT_EQ(ClassifyTransferError(CURLE_GOT_NOTHING, 0, "Empty reply from server"), "reset");
}

TEST(KubeletErrorClassTest, RealTlsFailuresAreTls) {
  EXPECT_EQ(ClassifyTransferError(CURLE_PEER_FAILED_VERIFICATION, 0,
                                  "SSL: certificate subject name 'x' does not match target host name 'y'"),
            "tls");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CONNECT_ERROR, 0,
                                  "error:0A000086:SSL routines::certificate verify failed"),
            "tls");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CONNECT_ERROR, 0,
                                  "OpenSSL/3.0.15: error:0A00010B:SSL routines::wrong version number"),
            "tls");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CACERT_BADFILE, 0, "error setting certificate file"), "tls");
  EXPECT_EQ(ClassifyTransferError(CURLE_SSL_CERTPROBLEM, 0, "unable to use client certificate"), "tls");
}

TEST(KubeletErrorClassTest, OtherTransportClasses) {
  EXPECT_EQ(ClassifyTransferError(CURLE_OPERATION_TIMEDOUT, 0, "Operation timed out"), "timeout");
  EXPECT_EQ(ClassifyTransferError(CURLE_COULDNT_CONNECT, ECONNREFUSED, "Connection refused"), "refused");
  EXPECT_EQ(ClassifyTransferError(CURLE_COULDNT_RESOLVE_HOST, 0, "Could not resolve host"), "resolve");
  EXPECT_EQ(ClassifyTransferError(CURLE_UNSUPPORTED_PROTOCOL, 0, "Protocol not supported"), "error");
  EXPECT_EQ(ClassifyTransferError(CURLE_PARTIAL_FILE, 0, "transfer closed with bytes remaining"), "error");
}

}  // namespace
}  // namespace nodeproc
