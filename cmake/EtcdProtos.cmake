# etcd's v3 API in C++, generated at build time from etcd's own .proto files
# as Debian ships them (no copy in our tree, no download):
#
#   golang-etcd-server-dev              etcd/etcdserver/etcdserverpb/rpc.proto,
#                                       etcd/mvcc/mvccpb/kv.proto, etcd/auth/authpb/auth.proto
#   golang-github-gogo-protobuf-dev     gogoproto/gogo.proto (imported for Go options)
#   golang-github-gogo-googleapis-dev   google/api/annotations.proto, http.proto
#                                       (imported for the JSON gateway's routes)
#
# The gogoproto and google.api options only steer Go code and the gateway;
# plain protoc compiles them as ordinary custom options, so nothing is
# stripped. Defines the library cc_etcd_proto (messages and gRPC stubs).
find_package(gRPC CONFIG REQUIRED)
find_package(Protobuf REQUIRED)

set(CHRONOCONF_GOCODE_DIR /usr/share/gocode/src
    CACHE PATH "Where Debian's golang-*-dev packages keep their sources")
set(etcd_proto_roots
    ${CHRONOCONF_GOCODE_DIR}/go.etcd.io
    ${CHRONOCONF_GOCODE_DIR}/github.com/gogo/protobuf
    ${CHRONOCONF_GOCODE_DIR}/github.com/gogo/googleapis)
# Imports resolve as "etcd/mvcc/mvccpb/kv.proto", "gogoproto/gogo.proto", ...
set(etcd_protos
    etcd/etcdserver/etcdserverpb/rpc.proto
    etcd/mvcc/mvccpb/kv.proto
    etcd/auth/authpb/auth.proto
    gogoproto/gogo.proto
    google/api/annotations.proto
    google/api/http.proto)

set(etcd_proto_out ${CMAKE_BINARY_DIR}/generated/etcdpb)
set(etcd_proto_includes)
foreach(root ${etcd_proto_roots})
  list(APPEND etcd_proto_includes -I${root})
endforeach()
list(APPEND etcd_proto_includes -I${Protobuf_INCLUDE_DIRS})  # google/protobuf/descriptor.proto

set(etcd_proto_srcs)
set(etcd_proto_inputs)
foreach(proto ${etcd_protos})
  set(found "")
  foreach(root ${etcd_proto_roots})
    if(NOT found AND EXISTS ${root}/${proto})
      set(found ${root}/${proto})
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "${proto} not found under ${CHRONOCONF_GOCODE_DIR}: install "
            "golang-etcd-server-dev golang-github-gogo-protobuf-dev "
            "golang-github-gogo-googleapis-dev (scripts/setup.sh does)")
  endif()
  list(APPEND etcd_proto_inputs ${found})
  string(REGEX REPLACE "\\.proto$" "" stem ${proto})
  list(APPEND etcd_proto_srcs ${etcd_proto_out}/${stem}.pb.cc)
endforeach()
# Only rpc.proto declares services.
set(etcd_grpc_src ${etcd_proto_out}/etcd/etcdserver/etcdserverpb/rpc.grpc.pb.cc)

set(etcd_proto_outputs ${etcd_proto_srcs} ${etcd_grpc_src})
foreach(src ${etcd_proto_srcs} ${etcd_grpc_src})
  string(REGEX REPLACE "\\.cc$" ".h" header ${src})
  list(APPEND etcd_proto_outputs ${header})
endforeach()

add_custom_command(
  OUTPUT ${etcd_proto_outputs}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${etcd_proto_out}
  COMMAND protobuf::protoc ${etcd_proto_includes} --cpp_out=${etcd_proto_out} ${etcd_protos}
  COMMAND protobuf::protoc ${etcd_proto_includes} --grpc_out=${etcd_proto_out}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
          etcd/etcdserver/etcdserverpb/rpc.proto
  DEPENDS ${etcd_proto_inputs}
  COMMENT "Generating etcd's v3 API (protoc, grpc_cpp_plugin) from Debian's .proto files")

add_library(cc_etcd_proto STATIC ${etcd_proto_srcs} ${etcd_grpc_src})
# Generated code: not held to our warnings, and SYSTEM so that including its
# headers does not trip -Werror in our own files.
target_include_directories(cc_etcd_proto SYSTEM PUBLIC ${etcd_proto_out})
target_link_libraries(cc_etcd_proto PUBLIC gRPC::grpc++ protobuf::libprotobuf)
