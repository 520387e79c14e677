# tack-sdk-pc.cmake: run by `cmake --install` to write tack-sdk.pc for the
# prefix being installed to. The caller sets TACK_PC_IN, TACK_PC_OUT and the
# variables tack-sdk.pc.in names; CMAKE_INSTALL_PREFIX is the install prefix.
set(TACK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
configure_file("${TACK_PC_IN}" "${TACK_PC_OUT}" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/${TACK_PC_LIBDIR}/pkgconfig" TYPE FILE
     FILES "${TACK_PC_OUT}")
