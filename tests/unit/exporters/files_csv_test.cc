#include "exporters/files_csv.h"

#include <string>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

const absl::Time kTs = absl::FromUnixSeconds(1'795'000'000);  // 2026-11-18 11:06:40 UTC

ProcessRecord Proc() {
  ProcessRecord r;
  r.pid = 4242;
  r.container.container_id = "abc123";
  r.container.pod_uid = "uid-1";
  r.container.pod_namespace = "default";
  r.container.pod_name = "web,1";
  r.container.container_name = "nginx";
  return r;
}

TEST(FilesCsvTest, Header) {
  EXPECT_EQ(FilesCsvHeader(),
            "timestamp,pid,container_id,pod_uid,namespace,pod,container,path,kind,size,mode,uid,gid,"
            "mtime,inode,package,package_version\n");
}

TEST(FilesCsvTest, RowsWithQuotingUnknownsAndDeleted) {
  ProcessFiles pf;
  pf.pid = 4242;
  FileEntry lib;
  lib.path = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
  lib.kind = FileEntry::Kind::kMapped;
  lib.size = 12345;
  lib.mode = 0100644;
  lib.uid = 0;
  lib.gid = 0;
  lib.mtime = 1'700'000'000;  // 2023-11-14 22:13:20 UTC
  lib.inode = 332835;
  lib.package = "libssl3";
  lib.package_version = "3.0.2-0ubuntu1.10";
  FileEntry weird;
  weird.path = "/tmp/a,\"b\"";
  weird.kind = FileEntry::Kind::kBoth;
  weird.deleted = true;
  weird.inode = 7;
  FileEntry exe;
  exe.path = "/app/server";
  exe.kind = FileEntry::Kind::kOpen;
  exe.mode = 0100755;
  pf.files = {lib, weird, exe};

  std::string out;
  AppendFilesCsv(Proc(), pf, kTs, &out);
  EXPECT_EQ(out,
            "2026-11-18 11:06:40,4242,abc123,uid-1,default,\"web,1\",nginx,"
            "/usr/lib/x86_64-linux-gnu/libssl.so.3,mapped,12345,0644,0,0,2023-11-14 22:13:20,332835,"
            "libssl3,3.0.2-0ubuntu1.10\n"
            "2026-11-18 11:06:40,4242,abc123,uid-1,default,\"web,1\",nginx,"
            "\"/tmp/a,\"\"b\"\" (deleted)\",both,,,,,,7,,\n"
            "2026-11-18 11:06:40,4242,abc123,uid-1,default,\"web,1\",nginx,"
            "/app/server,open,,0755,,,,,,\n");
}

TEST(FilesCsvTest, HostProcessHasEmptyContainerColumnsAndNoFilesNoRows) {
  ProcessRecord host;
  host.pid = 1;
  ProcessFiles pf;
  std::string out;
  AppendFilesCsv(host, pf, kTs, &out);
  EXPECT_EQ(out, "");
  FileEntry f;
  f.path = "/sbin/init";
  f.kind = FileEntry::Kind::kMapped;
  pf.files.push_back(f);
  AppendFilesCsv(host, pf, kTs, &out);
  EXPECT_EQ(out, "2026-11-18 11:06:40,1,,,,,,/sbin/init,mapped,,,,,,,,\n");
}

}  // namespace
}  // namespace nodeproc
