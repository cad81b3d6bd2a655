    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
