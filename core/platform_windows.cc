// core/platform.h on Windows (mingw-w64 build): Win32 calls on UTF-8 paths.
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <windows.h>

#include <algorithm>
#include <cerrno>

#include "core/platform.h"

namespace nodeproc::platform {
namespace {

std::wstring Wide(const std::string& s) {
  if (s.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

int ErrnoFromWin32(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
      return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return EACCES;
    case ERROR_WRITE_PROTECT:
      return EROFS;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_DIR_NOT_EMPTY:
      return ENOTEMPTY;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      return EEXIST;
    default:
      return EIO;
  }
}

// FILETIME (100 ns since 1601-01-01) -> time_t.
std::time_t ToTimeT(const FILETIME& ft) {
  const uint64_t t = (static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return static_cast<std::time_t>(t / 10000000ULL) - static_cast<std::time_t>(11644473600LL);
}

}  // namespace

bool HasProcfs() { return false; }

int64_t ProcessId() { return static_cast<int64_t>(GetCurrentProcessId()); }

std::string HostName() {
  char name[256] = {};
  DWORD size = sizeof(name);
  if (!GetComputerNameExA(ComputerNameDnsHostname, name, &size)) return "";
  return std::string(name, size);
}

int OpenForRead(const std::string& path) {
  return _wopen(Wide(path).c_str(), _O_RDONLY | _O_BINARY | _O_NOINHERIT);
}

int OpenForReadAt(int, const char* name) { return OpenForRead(name); }

int CreateForWrite(const std::string& path) {
  return _wopen(Wide(path).c_str(), _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY | _O_NOINHERIT,
                _S_IREAD | _S_IWRITE);
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(data.size(), 1u << 20));
    const int n = _write(fd, data.data(), chunk);
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int SyncFile(int fd) { return _commit(fd) == 0 ? 0 : errno; }

int CloseFile(int fd) { return _close(fd) == 0 ? 0 : errno; }

int RenameOver(const std::string& from, const std::string& to) {
  if (MoveFileExW(Wide(from).c_str(), Wide(to).c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return 0;
  }
  return ErrnoFromWin32(GetLastError());
}

void SyncDir(const std::string&) {}  // MOVEFILE_WRITE_THROUGH made the rename durable

int RemoveFile(const std::string& path) {
  return DeleteFileW(Wide(path).c_str()) ? 0 : ErrnoFromWin32(GetLastError());
}

int RemoveDir(const std::string& path) {
  return RemoveDirectoryW(Wide(path).c_str()) ? 0 : ErrnoFromWin32(GetLastError());
}

int CreateOwned(const std::string& path, bool* locking) {
  *locking = false;
  // No sharing at all: while this handle is open nobody else can open the file, so a cleanup's
  // open fails (sharing violation) exactly while a live writer has it.
  HANDLE h = CreateFileW(Wide(path).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    *locking = error == ERROR_SHARING_VIOLATION || error == ERROR_LOCK_VIOLATION;
    errno = ErrnoFromWin32(error);
    return -1;
  }
  const int fd = _open_osfhandle(reinterpret_cast<intptr_t>(h), _O_WRONLY | _O_BINARY);
  if (fd < 0) {
    CloseHandle(h);
    DeleteFileW(Wide(path).c_str());
    errno = EMFILE;
    return -1;
  }
  return fd;
}

int RenameOwnedOver(int fd, const std::string& from, const std::string& to) {
  // A file open without sharing cannot be renamed: close, then MoveFileEx. In between the temp
  // file is unowned; a concurrent start-up cleanup may remove it and the rename then fails.
  _close(fd);
  const int err = RenameOver(from, to);
  if (err != 0) DeleteFileW(Wide(from).c_str());
  return err;
}

void RemoveOwned(int fd, const std::string& path) {
  _close(fd);
  DeleteFileW(Wide(path).c_str());
}

bool RemoveIfUnowned(const std::string& path) {
  // Opening without sharing fails while any live writer has it open.
  HANDLE h = CreateFileW(Wide(path).c_str(), DELETE | FILE_READ_ATTRIBUTES, 0, nullptr, OPEN_EXISTING,
                         FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return false;
  BY_HANDLE_FILE_INFORMATION info;
  bool removed = false;
  if (GetFileInformationByHandle(h, &info) &&
      (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) == 0) {
    FILE_DISPOSITION_INFO dispose = {};
    dispose.DeleteFile = TRUE;
    removed = SetFileInformationByHandle(h, FileDispositionInfo, &dispose, sizeof(dispose)) != 0;
  }
  CloseHandle(h);  // removes it when marked
  return removed;
}

PathKind StatNoFollow(const std::string& path) {
  PathKind k;
  WIN32_FILE_ATTRIBUTE_DATA data;
  if (!GetFileAttributesExW(Wide(path).c_str(), GetFileExInfoStandard, &data)) return k;
  k.exists = true;
  // A reparse point (symlink, junction) is neither: retention must not follow it.
  const bool reparse = (data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
  k.is_dir = !reparse && (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
  k.is_regular = !reparse && !k.is_dir;
  k.mtime = ToTimeT(data.ftLastWriteTime);
  return k;
}

}  // namespace nodeproc::platform
