// TODO(issue 14): the token helper replaces this placeholder.
#include "token/jwt.h"
