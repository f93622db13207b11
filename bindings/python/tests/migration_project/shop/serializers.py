from rest_framework_simplejwt.serializers import TokenObtainPairSerializer


class ShopTokenObtainPairSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token["name"] = user.get_full_name() or user.get_username()
        token["staff"] = user.is_staff
        return token
