host_stub/.host_main.o.d: host_stub/host_main.rs host_stub/channel.rs host_stub/chardev.rs host_stub/../common/eventfd.rs host_stub/export.rs host_stub/../common/kick.rs host_stub/../ring/src/ring.rs host_stub/../common/version.rs host_stub/../common/window.rs /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcore.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libkernel.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libffi.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcompiler_builtins.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init_internal.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libmacros.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbuild_error.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbindings.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy_derive.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libuapi.rmeta

host_stub/host_main.o: host_stub/host_main.rs host_stub/channel.rs host_stub/chardev.rs host_stub/../common/eventfd.rs host_stub/export.rs host_stub/../common/kick.rs host_stub/../ring/src/ring.rs host_stub/../common/version.rs host_stub/../common/window.rs /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcore.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libkernel.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libffi.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcompiler_builtins.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init_internal.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libmacros.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbuild_error.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbindings.rmeta /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy_derive.so /root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libuapi.rmeta

host_stub/host_main.rs:
host_stub/channel.rs:
host_stub/chardev.rs:
host_stub/../common/eventfd.rs:
host_stub/export.rs:
host_stub/../common/kick.rs:
host_stub/../ring/src/ring.rs:
host_stub/../common/version.rs:
host_stub/../common/window.rs:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcore.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libkernel.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libffi.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libcompiler_builtins.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libpin_init_internal.so:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libmacros.so:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbuild_error.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libbindings.rmeta:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libzerocopy_derive.so:
/root/.cache/ikernel/build/7.3.4-default-4ca4c31ff27f/rust/libuapi.rmeta:
