# The Debian package (docs/install.md): `make package` runs CPack on the release build and
# leaves build/package/keyward_<version>_amd64.deb. The install() rules below are its contents
# and nothing else's: no other target of the project installs anything.
#
#   /usr/bin/keyward                                (stripped)
#   /lib/systemd/system/keyward.service             packaging/deb/keyward.service
#   /etc/keyward/keyward.conf                       conffile, from `keyward generate config`
#   /usr/share/man/man1/keyward*.1.gz               from `keyward generate man`, gzip -9n
#   /usr/share/bash-completion/completions/keyward  from `keyward generate bash-completion`
#   /usr/share/zsh/vendor-completions/_keyward      from `keyward generate zsh-completion`
#   /usr/share/doc/keyward/copyright, changelog.gz
#
# The maintainer scripts (packaging/deb/postinst, prerm, postrm) create the keyward user and
# /var/lib/keyward, and remove them with /etc/keyward on purge.

# CPack installs what is built and builds nothing: `make package` builds `keyward` and
# `keyward_generated` first, and the package test packs the build it tests as it is (without
# this CPack's install would build every target of the tree first).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(keyward_deb ${PROJECT_SOURCE_DIR}/packaging/deb)
# What the package holds, built: `make package` builds this, then runs CPack.
add_custom_target(keyward_package_contents)
add_dependencies(keyward_package_contents keyward)

install(TARGETS keyward RUNTIME DESTINATION bin)
install(FILES ${keyward_deb}/keyward.service DESTINATION /lib/systemd/system)
install(FILES ${keyward_deb}/copyright DESTINATION share/doc/keyward)
# Debian wants a changelog in every package's doc folder; the project's history is its git log.
set(keyward_changelog ${CMAKE_BINARY_DIR}/package-files/changelog)
configure_file(${keyward_deb}/changelog.in ${keyward_changelog} @ONLY)
install(CODE "execute_process(COMMAND gzip -9n -c \"${keyward_changelog}\"
                              OUTPUT_FILE \"${keyward_changelog}.gz\" COMMAND_ERROR_IS_FATAL ANY)")
install(FILES ${keyward_changelog}.gz DESTINATION share/doc/keyward)

set(keyward_conffiles "")
# The generated files come from the binary itself (`keyward generate`, target
# keyward_generated).
if(TARGET keyward_generated)
  add_dependencies(keyward_package_contents keyward_generated)
  set(gen ${CMAKE_BINARY_DIR}/generated)
  install(FILES ${gen}/conf/keyward.conf DESTINATION /etc/keyward)
  set(keyward_conffiles /etc/keyward/keyward.conf)
  # Man pages gzip'd at install time (-n: no name or time stamp, so a rebuild is the same
  # package), as Debian policy and lintian want them.
  install(CODE "
    file(REMOVE_RECURSE \"${gen}/man-gz\")
    file(MAKE_DIRECTORY \"${gen}/man-gz\")
    file(GLOB pages \"${gen}/man/*.1\")
    foreach(page IN LISTS pages)
      get_filename_component(name \"\${page}\" NAME)
      execute_process(COMMAND gzip -9n -c \"\${page}\" OUTPUT_FILE \"${gen}/man-gz/\${name}.gz\"
                      COMMAND_ERROR_IS_FATAL ANY)
    endforeach()")
  install(DIRECTORY ${gen}/man-gz/ DESTINATION share/man/man1 FILES_MATCHING PATTERN "*.1.gz")
  install(FILES ${gen}/completion/keyward.bash DESTINATION share/bash-completion/completions
          RENAME keyward)
  install(FILES ${gen}/completion/_keyward DESTINATION share/zsh/vendor-completions)
endif()
set(keyward_conffiles_file ${CMAKE_BINARY_DIR}/package-files/conffiles)
list(JOIN keyward_conffiles "\n" keyward_conffiles_text)
file(WRITE ${keyward_conffiles_file} "${keyward_conffiles_text}\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME keyward)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_SOURCE_DIR}/build/package)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "Keyward maintainers <maintainers@users.noreply.r-seed-fb7fa131.example>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # keyward_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted API key service")
set(CPACK_PACKAGE_DESCRIPTION
    "Keyward issues, verifies and revokes API keys for the services behind
a gateway. It answers nginx auth_request, Traefik ForwardAuth, Envoy
ext_authz and Caddy forward_auth at /auth, keeps the keys hashed in SQLite
or PostgreSQL, and comes with a web console, a REST API and the keyward
command line client. This package runs it as the keyward system user under
systemd (keyward.service), configured in /etc/keyward/keyward.conf, with its
data in /var/lib/keyward.")
# Depends: the libraries dpkg-shlibdeps finds the binary linked with, and adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# keyward opens libpq and libcurl on first use (src/common/shared_library.h), so dpkg-shlibdeps,
# which reads the binary's start-up needs, does not see them: they are named here.
# Versions: CURLOPT_PROTOCOLS_STR and CURLOPT_CA_CACHE_TIMEOUT need curl 7.87, Debian 12's 7.88.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libpq5 (>= 15), libcurl4 (>= 7.88)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${keyward_deb}/postinst ${keyward_deb}/prerm ${keyward_deb}/postrm)
if(keyward_conffiles)
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${keyward_conffiles_file})
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
